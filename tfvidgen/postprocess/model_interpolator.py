"""A trained frame interpolator (a `FrameInterpolator` or its SavedModel) behind `FlowInterpolator`'s interface."""

import fractions

import numpy as np

from tfvidgen import frames as frames_lib
from tfvidgen.postprocess import clips as clips_lib


class ModelInterpolator:
    """Lets `interpolate`, `process_video` and the CLI use a learned interpolator instead of optical flow.

    The model makes middle frames; other in-between times that are
    dyadic (1/4, 3/8, ...: factors 2, 4, 8) are reached by halving recursively,
    each middle computed once per pair. Frames are converted to the model's
    channels (RGB to grey and back) but not resized: the frame size must be the
    model's.

    Args:
        model: anything with `interpolate(frame_a, frame_b)` on batches
            `(batch, H, W, C)` in [0, 1] and a `frame_shape`, e.g.
            `tfvidgen.models.FrameInterpolator` or
            `tfvidgen.serving.ExportedModel` of one.

    Example:

    >>> learned = ModelInterpolator(keras.models.load_model("runs/interp/model.keras"))
    >>> smooth = tfvidgen.postprocess.interpolate(clip, 4, interpolator=learned)
    """

    def __init__(self, model):
        if not hasattr(model, "interpolate") or not hasattr(model, "frame_shape"):
            raise ValueError(
                "`model` must be a frame interpolator (with interpolate() and frame_shape); "
                f"received {type(model).__name__}."
            )
        self.model = model
        self.frame_shape = tuple(model.frame_shape)

    def _to_model(self, frame):
        frame = clips_lib.to_float_frame(frame)
        frame = frame.reshape(frame.shape[:2] + (-1,))
        if frame.shape[:2] != self.frame_shape[:2]:
            raise ValueError(
                f"The learned interpolator takes {self.frame_shape[1]}x{self.frame_shape[0]} frames; these are "
                f"{frame.shape[1]}x{frame.shape[0]} (width x height). Resize them, or use optical flow."
            )
        if frame.shape[-1] == 3 and self.frame_shape[-1] == 1:
            frame = frames_lib.rgb_to_grey(frame)
        elif frame.shape[-1] == 1 and self.frame_shape[-1] == 3:
            frame = np.repeat(frame, 3, axis=-1)
        return frame

    def _middle(self, frame_a, frame_b):
        middle = self.model.interpolate(frame_a[None], frame_b[None])
        return np.clip(np.asarray(middle, np.float32)[0], 0.0, 1.0)

    def interpolate(self, frame_a, frame_b, times=(0.5,)):
        """Frames at `times` (dyadic fractions in (0, 1)) between two frames, like `FlowInterpolator.interpolate`."""
        original = np.asarray(frame_a)
        a, b = self._to_model(frame_a), self._to_model(frame_b)
        cache = {}

        def at(time, low, high, start, end):
            if time == 0:
                return start
            if time == 1:
                return end
            key = (low, high)
            if key not in cache:
                cache[key] = self._middle(start, end)
            middle = cache[key]
            half = (low + high) / 2
            if time == fractions.Fraction(1, 2):
                return middle
            if time < fractions.Fraction(1, 2):
                return at(time * 2, low, half, start, middle)
            return at(time * 2 - 1, half, high, middle, end)

        results = []
        for time in times:
            exact = fractions.Fraction(time).limit_denominator(1 << 16)
            if not 0 < exact < 1 or exact.denominator & (exact.denominator - 1):
                raise ValueError(
                    f"A learned interpolator makes frames at dyadic times (1/2, 1/4, 3/8...; factors 2, 4, 8); "
                    f"received {float(time):g}. Use optical flow for other frame-rate ratios."
                )
            frame = at(exact, fractions.Fraction(0), fractions.Fraction(1), a, b)
            if original.ndim == 3 and original.shape[-1] == 3 and frame.shape[-1] == 1:
                frame = np.repeat(frame, 3, axis=-1)
            frame = frame.reshape(original.shape)
            results.append(clips_lib.to_uint8_frame(frame) if original.dtype == np.uint8 else frame.astype(np.float32))
        return results

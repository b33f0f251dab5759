"""Optical-flow frame interpolation: the in-between frames of two neighbours."""

import cv2
import numpy as np

from tfvidgen import frames as frames_lib
from tfvidgen.postprocess import clips as clips_lib

FLOW_METHODS = ("dis", "farneback")


class FlowInterpolator:
    """Synthesises frames between two neighbours from bidirectional optical flow.

    For each in-between time `t` in (0, 1) both neighbours are backward-warped
    to `t` with the flows from `t` to each of them, approximated from the
    forward and backward flows as in Super SloMo; the two warped frames are
    blended with weights `1 - t` and `t` times each pixel's visibility.
    A pixel is visible in a neighbour when the forward and backward flows agree
    there (forward-backward consistency): where an object uncovers background,
    the background comes from the one neighbour that shows it. Where neither
    neighbour's flow is consistent, and for whole frames whose flow is mostly
    inconsistent (a scene cut, motion too large), the result falls back to
    linear blending.

    Flows are computed once per pair, whatever the number of in-between times.
    The frames are NumPy arrays `(height, width, channels)`, uint8 or float32
    in [0, 1]; results have the inputs' dtype.

    Args:
        method: `"dis"` (OpenCV's dense inverse search, fast) or `"farneback"`.
        quality: `"fast"`, `"medium"` or `"ultrafast"`, DIS's preset.
        consistency: tolerance of the forward-backward check, as a fraction
            of the squared flow magnitude (Sundaram et al.'s 0.01).
        max_brightness_change: a pixel whose flow lands on a pixel this much
            brighter or darker (fraction of the range) counts as not visible.
        min_consistent: below this fraction of consistent pixels a pair is
            treated as a cut and linearly blended.
        global_motion: first find the frame's global translation by phase
            correlation and compute the flow relative to it: DIS's pyramid
            then only has to find the residual motion, so fast camera pans
            (20+ pixels a frame) are tracked.

    Example:

    >>> interpolator = FlowInterpolator()
    >>> middle, = interpolator.interpolate(frame_a, frame_b, times=[0.5])

    Reference:
        Jiang et al., "Super SloMo: High Quality Estimation of Multiple
        Intermediate Frames for Video Interpolation", CVPR 2018 (the flow
        approximation); Sundaram et al., "Dense Point Trajectories by
        GPU-Accelerated Large Displacement Optical Flow", ECCV 2010 (the
        consistency check); Kroeger et al., "Fast Optical Flow using Dense
        Inverse Search", ECCV 2016.
    """

    def __init__(
        self,
        method="dis",
        quality="medium",
        consistency=0.01,
        max_brightness_change=0.1,
        min_consistent=0.3,
        global_motion=True,
    ):
        if method not in FLOW_METHODS:
            raise ValueError(f"`method` must be one of {FLOW_METHODS}. Received: method={method!r}")
        presets = {
            "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
            "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
            "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
        }
        if quality not in presets:
            raise ValueError(f"`quality` must be one of {tuple(presets)}. Received: quality={quality!r}")
        self.method = method
        self.quality = quality
        self.consistency = clips_lib.positive_number("consistency", consistency)
        self.max_brightness_change = clips_lib.positive_number("max_brightness_change", max_brightness_change)
        self.min_consistent = clips_lib.positive_number("min_consistent", min_consistent, inclusive=True)
        self.global_motion = bool(global_motion)
        self._preset = presets[quality]
        self._dis = {}
        self._grids = {}

    # === Flow ===

    def _dis_for(self, shape):
        if shape not in self._dis:
            dis = cv2.DISOpticalFlow_create(self._preset)
            if min(shape) < 128:
                # Small frames (64x64 generated clips): flow at full resolution with small dense patches.
                # On 8 held-out Moving MNIST clips, every other frame rebuilt: 4x4 patches at stride 1
                # 20.95 dB, the preset's 8x8 at stride 4 19.22 dB, 6x6 at stride 3 18.85 dB.
                dis.setFinestScale(0)
                dis.setPatchSize(4)
                dis.setPatchStride(1)
            self._dis[shape] = dis
        return self._dis[shape]

    def _dense_flow(self, gray_a, gray_b):
        if self.method == "dis":
            return self._dis_for(gray_a.shape).calc(gray_a, gray_b, None)
        return cv2.calcOpticalFlowFarneback(gray_a, gray_b, None, 0.5, 4, 15, 3, 5, 1.2, 0)

    def _translation(self, gray_a, gray_b):
        """The whole-frame shift from a to b in whole pixels (phase correlation)."""
        key = ("window", gray_a.shape)
        if key not in self._grids:
            self._grids[key] = cv2.createHanningWindow(gray_a.shape[::-1], cv2.CV_32F)
        (shift_x, shift_y), _ = cv2.phaseCorrelate(
            gray_a.astype(np.float32), gray_b.astype(np.float32), self._grids[key]
        )
        return int(round(shift_x)), int(round(shift_y))

    def flow(self, gray_a, gray_b):
        """Dense flow `(height, width, 2)` (x, y) from uint8 gray frame `gray_a` to `gray_b`."""
        shift_x, shift_y = self._translation(gray_a, gray_b) if self.global_motion else (0, 0)
        if shift_x == 0 and shift_y == 0:
            return self._dense_flow(gray_a, gray_b)
        # b moved back by the global shift; the dense flow finds what is left.
        moved_back = cv2.warpAffine(
            gray_b,
            np.float32([[1, 0, -shift_x], [0, 1, -shift_y]]),
            gray_a.shape[::-1],
            borderMode=cv2.BORDER_REPLICATE,
        )
        flow = self._dense_flow(gray_a, moved_back)
        flow[..., 0] += shift_x
        flow[..., 1] += shift_y
        return flow

    def _grid(self, shape):
        if shape not in self._grids:
            height, width = shape
            grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
            self._grids[shape] = (grid_x, grid_y)
        return self._grids[shape]

    def _warp(self, image, flow):
        """`image` sampled at `x + flow(x)` (backward warping)."""
        grid_x, grid_y = self._grid(flow.shape[:2])
        return cv2.remap(
            image, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )

    def _visible(self, gray_a, gray_b, flow_ab, flow_ba):
        """Float mask of a's pixels that b shows too: 1, or 0 where occluded in b or the flow is wrong.

        A pixel passes when the flow to b and back returns to it (forward-backward
        consistency) and b's pixel there has about a's brightness.
        """
        returned = self._warp(flow_ba, flow_ab)
        error = _squared_norm(flow_ab + returned)
        bound = self.consistency * (_squared_norm(flow_ab) + _squared_norm(returned)) + 0.5
        difference = np.abs(gray_a.astype(np.float32) - self._warp(gray_b, flow_ab).astype(np.float32))
        return ((error <= bound) & (difference <= 255.0 * self.max_brightness_change)).astype(np.float32)

    # === Interpolation ===

    def interpolate(self, frame_a, frame_b, times=(0.5,)):
        """The frames at each time in `times` (0 < t < 1) between `frame_a` and `frame_b`.

        Args:
            frame_a, frame_b: `(height, width, channels)`, uint8 or float in [0, 1].
            times: in-between times, 0 is `frame_a` and 1 is `frame_b`.

        Returns:
            A list of frames like `frame_a` (same shape and dtype).
        """
        frame_a, frame_b = np.asarray(frame_a), np.asarray(frame_b)
        if frame_a.shape != frame_b.shape or frame_a.ndim not in (2, 3):
            raise ValueError(
                "`frame_a` and `frame_b` must be two frames (height, width[, channels]) of the same shape. "
                f"Received shapes {frame_a.shape} and {frame_b.shape}."
            )
        for time in times:
            if not 0.0 < float(time) < 1.0:
                raise ValueError(f"Every time in `times` must lie strictly between 0 and 1. Received: {time!r}")
        dtype = frame_a.dtype
        uint8_a, uint8_b = clips_lib.to_uint8_frame(frame_a), clips_lib.to_uint8_frame(frame_b)
        gray_a, gray_b = _gray(uint8_a), _gray(uint8_b)
        flow_ab, flow_ba = self.flow(gray_a, gray_b), self.flow(gray_b, gray_a)
        visible_a = self._visible(gray_a, gray_b, flow_ab, flow_ba)
        visible_b = self._visible(gray_b, gray_a, flow_ba, flow_ab)
        is_cut = min(visible_a.mean(), visible_b.mean()) < self.min_consistent
        float_a = clips_lib.to_float_frame(frame_a).reshape(frame_a.shape[:2] + (-1,))
        float_b = clips_lib.to_float_frame(frame_b).reshape(frame_b.shape[:2] + (-1,))
        results = []
        for time in map(float, times):
            blend = (1.0 - time) * float_a + time * float_b
            if is_cut:
                middle = blend
            else:
                middle = self._synthesise(float_a, float_b, flow_ab, flow_ba, visible_a, visible_b, time, blend)
            middle = middle.reshape(frame_a.shape)
            results.append(clips_lib.to_uint8_frame(middle) if dtype == np.uint8 else middle.astype(np.float32))
        return results

    def _synthesise(self, float_a, float_b, flow_ab, flow_ba, visible_a, visible_b, time, blend):
        # Flows from time t back to each neighbour (Super SloMo's approximation).
        flow_ta = -(1.0 - time) * time * flow_ab + time * time * flow_ba
        flow_tb = (1.0 - time) * (1.0 - time) * flow_ab - time * (1.0 - time) * flow_ba
        warped_a = self._warp(float_a, flow_ta).reshape(float_a.shape)
        warped_b = self._warp(float_b, flow_tb).reshape(float_b.shape)
        seen_a = self._warp(visible_a, flow_ta)[..., None]
        seen_b = self._warp(visible_b, flow_tb)[..., None]
        weight_a, weight_b = (1.0 - time) * seen_a, time * seen_b
        warped = (weight_a * warped_a + weight_b * warped_b) / np.maximum(weight_a + weight_b, 1e-6)
        # 1 where a neighbour with consistent flow supplied the pixel, 0 where neither did.
        reliability = np.maximum(seen_a, seen_b)
        return reliability * warped + (1.0 - reliability) * blend


def _squared_norm(flow):
    """`x**2 + y**2` per pixel; 5x faster than a sum over the last axis of length 2."""
    return flow[..., 0] * flow[..., 0] + flow[..., 1] * flow[..., 1]


def _gray(frame):
    if frame.ndim == 2:
        return frame
    if frame.shape[-1] == 3:
        return frames_lib.rgb_to_grey(frame)[..., 0]
    return frame[..., 0]

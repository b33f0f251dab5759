"""fit/evaluate check the first batch at the door: shape, [0, 1] range, finite values, for every family."""

import numpy as np
import pytest
import tensorflow as tf

from tfvidgen.models import ConvLSTMPredictor
from tfvidgen.models import FrameInterpolator
from tfvidgen.models import VideoDCGAN
from tfvidgen.models import VideoVAE

rng = np.random.default_rng(0)


def clips(shape):
    return rng.random(shape).astype(np.float32)


# family: (model factory, good data, data of the wrong shape, expected shape text)
CASES = {
    "convlstm": (
        lambda: ConvLSTMPredictor.from_preset("tiny"),
        lambda: (clips((4, 4, 16, 16, 1)),),
        lambda: (clips((4, 4, 16, 16, 3)),),
        r"the clips must have shape \(batch, any, 16, 16, 1\). The first batch has shape \(2, 4, 16, 16, 3\)",
    ),
    "vae": (
        lambda: VideoVAE.from_preset("tiny"),
        lambda: (clips((4, 4, 16, 16, 1)),),
        lambda: (clips((4, 4, 32, 32, 1)),),
        r"the clips must have shape \(batch, 4, 16, 16, 1\). The first batch has shape \(2, 4, 32, 32, 1\)",
    ),
    "dcgan": (
        lambda: VideoDCGAN.from_preset("tiny"),
        lambda: (clips((4, 4, 16, 16, 1)),),
        lambda: (clips((4, 16, 16, 1)),),
        r"the clips must have shape \(batch, 4, 16, 16, 1\). The first batch has shape \(2, 16, 16, 1\)",
    ),
    "interpolator": (
        lambda: FrameInterpolator.from_preset("tiny"),
        lambda: (clips((4, 2, 16, 16, 1)), clips((4, 16, 16, 1))),
        lambda: (clips((4, 3, 16, 16, 1)), clips((4, 16, 16, 1))),
        r"the neighbours must have shape \(batch, 2, 16, 16, 1\). The first batch has shape \(2, 3, 16, 16, 1\)",
    ),
}


def _compiled(factory):
    model = factory()
    model.compile()
    return model


def _dataset(arrays):
    return tf.data.Dataset.from_tensor_slices(arrays if len(arrays) > 1 else arrays[0]).batch(2)


@pytest.mark.parametrize("family", sorted(CASES))
def test_fit_names_the_expected_shape(family):
    factory, _, wrong, message = CASES[family]
    model = _compiled(factory)
    with pytest.raises(ValueError, match=f"`fit` on {type(model).__name__}: {message}"):
        model.fit(_dataset(wrong()), epochs=1, verbose=0)


@pytest.mark.parametrize("family", sorted(CASES))
def test_frames_outside_0_1_and_nan_are_refused_with_the_fix(family):
    factory, good, _, _ = CASES[family]
    model = _compiled(factory)
    scaled = tuple(array * 255.0 for array in good())
    with pytest.raises(ValueError, match=r"must hold frames in \[0, 1\]; the first batch has values in .* by 255"):
        model.fit(_dataset(scaled), epochs=1, verbose=0)
    poisoned = tuple(array.copy() for array in good())
    poisoned[0][0, 0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="holds NaN or Inf in the first batch"):
        model.evaluate(_dataset(poisoned), verbose=0)
    history = model.fit(_dataset(good()), epochs=1, verbose=0).history  # Good data still trains.
    assert all(np.isfinite(values[-1]) for values in history.values())


def test_numpy_arrays_are_checked_too():
    model = _compiled(CASES["vae"][0])
    with pytest.raises(ValueError, match=r"values in \[0, 255\]. Divide 0-255 frames by 255"):
        model.fit(np.arange(4 * 4 * 16 * 16).reshape(4, 4, 16, 16, 1) % 256, epochs=1, verbose=0)


def test_whole_clips_must_be_longer_than_the_context():
    model = _compiled(CASES["convlstm"][0])  # tiny: 2 context frames.
    with pytest.raises(ValueError, match=r"need more than context_frames=2 frames .* the first batch has 2"):
        model.fit(_dataset((clips((4, 2, 16, 16, 1)),)), epochs=1, verbose=0)

"""MirroredStrategy over 2 logical CPUs (set up in conftest) against one device.

One strategy object serves every test: a second MirroredStrategy in the same
process reuses collective instance keys, which breaks synchronized batch norm.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import harness
from tfvidgen.layers import Sampling
from tfvidgen.models import ConvLSTMPredictor
from tfvidgen.models import SimVPPredictor
from tfvidgen.models import VideoDCGAN
from tfvidgen.models import VideoVAE


@pytest.fixture(scope="module")
def mirrored():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    return strategy


def _first_update(build, batch, strategy):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = build()
    before = [variable.numpy().copy() for variable in model.trainable_variables]
    model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
    return before, [variable.numpy() for variable in model.trainable_variables]


def _assert_same_first_update(build, batch, strategy):
    single_before, single_after = _first_update(build, batch, tf.distribute.get_strategy())
    mirrored_before, mirrored_after = _first_update(build, batch, strategy)
    for single, mirrored in zip(single_before, mirrored_before):
        np.testing.assert_array_equal(single, mirrored)  # Same initial weights.
    largest_update = max(np.abs(after - before).max() for after, before in zip(single_after, single_before))
    assert largest_update > 1e-5
    for single, mirrored in zip(single_after, mirrored_after):
        np.testing.assert_allclose(mirrored, single, atol=1e-6 + 1e-3 * largest_update)


def _compiled(model, **compile_options):
    model.compile(**compile_options)
    return model


@pytest.mark.parametrize("teacher_forcing", [None, 0.5])
def test_convlstm_first_update(mirrored, teacher_forcing):
    batch = harness.first_batch(harness.tiny_pairs(num_clips=8, batch_size=8))
    _assert_same_first_update(
        lambda: _compiled(ConvLSTMPredictor.from_preset("tiny", teacher_forcing=teacher_forcing, seed=3)),
        batch,
        mirrored,
    )


def test_simvp_first_update(mirrored):
    # Whole clips, as `tfvidgen train` feeds them: 2 context frames, then 2 target frames.
    batch = harness.first_batch(harness.tiny_clips(num_clips=8, batch_size=8))
    _assert_same_first_update(lambda: _compiled(SimVPPredictor.from_preset("tiny")), batch, mirrored)


@pytest.mark.parametrize("options", [{}, {"two_stream": True, "spectral_norm": True, "minibatch_stddev_group": 2}])
def test_dcgan_first_update(mirrored, options):
    batch = harness.first_batch(harness.tiny_clips(num_clips=8, batch_size=8))
    _assert_same_first_update(lambda: _compiled(VideoDCGAN.from_preset("tiny", seed=3, **options)), batch, mirrored)


def test_vae_first_update(mirrored):
    batch = harness.first_batch(harness.tiny_clips(num_clips=8, batch_size=8))
    _assert_same_first_update(lambda: _compiled(VideoVAE.from_preset("tiny", seed=3)), batch, mirrored)


def test_sampling_noise_is_distinct_per_replica_and_matches_one_device(mirrored):
    with mirrored.scope():
        layer = Sampling(seed=11)
    zeros = np.zeros((8, 4), np.float32)
    dataset = mirrored.experimental_distribute_dataset(tf.data.Dataset.from_tensors((zeros, zeros)))
    per_replica = mirrored.run(lambda pair: layer(pair[0], pair[1]), args=(next(iter(dataset)),))
    first, second = [tensor.numpy() for tensor in mirrored.experimental_local_results(per_replica)]
    assert first.shape == second.shape == (4, 4)
    assert np.abs(first - second).min() > 0.0  # Distinct noise on each replica.
    single = Sampling(seed=11)(zeros, zeros).numpy()
    np.testing.assert_allclose(np.concatenate([first, second]), single, atol=1e-6)

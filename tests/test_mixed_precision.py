import keras
import numpy as np
import pytest
import tensorflow as tf

import harness
from tfvidgen import distribute
from tfvidgen.models import ConvLSTMPredictor
from tfvidgen.models import SimVPPredictor
from tfvidgen.models import VideoDCGAN
from tfvidgen.models import VideoVAE


@pytest.fixture(params=["float16", "bfloat16"])
def policy(request):
    distribute.set_mixed_precision(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy("float32")


def test_convlstm_trains_with_float32_outputs(policy):
    model = ConvLSTMPredictor.from_preset("tiny")
    model.compile()
    history = model.fit(harness.tiny_pairs(num_clips=8), epochs=1, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    assert model.backbone.recurrent_layers[0].compute_dtype == f"{policy}"
    assert model.predict_future(np.zeros((1, 2, 16, 16, 1), np.float32), 2).dtype == tf.float32
    if policy == "float16":
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_simvp_trains_with_float32_outputs(policy):
    model = SimVPPredictor.from_preset("tiny")
    model.compile()
    history = model.fit(harness.tiny_pairs(num_clips=8), epochs=1, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    assert model.backbone.get_layer("translator_0_expand").compute_dtype == policy
    future = model.predict_future(np.zeros((1, 2, 16, 16, 1), np.float32), 3)
    assert future.dtype == tf.float32 and tuple(future.shape) == (1, 3, 16, 16, 1)


def test_dcgan_wraps_both_optimizers_for_loss_scaling(policy):
    # With spectral norm, the brightness stream and the flicker penalty: every logit stays float32.
    gan = VideoDCGAN.from_preset(
        "tiny", spectral_norm=True, brightness_discriminator_filters=(8, 8), flicker_penalty_weight=10.0
    )
    gan.compile()
    history = gan.fit(harness.tiny_clips(num_clips=8, batch_size=8), epochs=1, verbose=0).history
    for key in ("d_loss", "g_loss", "flicker_penalty"):
        assert np.isfinite(history[key]).all(), key
    for name in ("logit_spectral_norm", "brightness_logit_spectral_norm"):
        assert gan.discriminator.get_layer(name).compute_dtype == "float32", name
    assert gan.discriminator.get_layer("brightness_conv_0_spectral_norm").compute_dtype == policy
    scaled = policy == "float16"
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer) is scaled
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer) is scaled
    assert gan.generate(2, seed=0).dtype == tf.float32
    assert gan.discriminator.output.dtype == "float32"


def test_vae_losses_and_outputs_stay_float32(policy):
    vae = VideoVAE.from_preset("tiny")
    vae.compile()
    history = vae.fit(harness.tiny_clips(num_clips=8, batch_size=8), epochs=1, verbose=0).history
    assert np.isfinite(history["nelbo"]).all()
    clips = harness.first_batch(harness.tiny_clips(num_clips=8, batch_size=8))
    z_mean, z_log_var = vae.encode(clips)
    assert z_mean.dtype == z_log_var.dtype == tf.float32
    assert vae.reconstruct(clips).dtype == tf.float32
    assert vae.sampling.compute_dtype == policy


@pytest.fixture
def bfloat16():
    distribute.set_mixed_precision("bfloat16")
    yield "bfloat16"
    keras.mixed_precision.set_global_policy("float32")


def test_diffusion_trains_in_bfloat16_and_samples_float32(bfloat16):
    # bfloat16 only (the GPU policy; float16's loss scaling is the same code path the other families test).
    from tfvidgen.models import VideoDiffusion

    policy = bfloat16
    model = VideoDiffusion.from_preset("tiny", seed=1)
    model.compile()
    history = model.fit(harness.tiny_clips(num_clips=8, batch_size=4), epochs=1, verbose=0).history
    for key in ("loss", "diffusion_loss", "autoencoder_loss"):
        assert np.isfinite(history[key]).all(), key
    assert model.backbone.get_layer("down_0_0_0_conv").compute_dtype == policy
    assert model.backbone.output.dtype == "float32" and model.autoencoder.output.dtype == "float32"
    assert all(variable.dtype == "float32" for variable in model.ema_backbone.weights)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) is (policy == "float16")
    samples = model.sample(2, seed=0, steps=2, labels=[1, 2], guidance=2.0)
    assert samples.dtype == tf.float32 and tuple(samples.shape) == (2, 4, 16, 16, 1)
    assert np.isfinite(np.asarray(samples)).all()

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import harness
from tfvidgen import callbacks
from tfvidgen import distribute
from tfvidgen.models import ConvLSTMPredictor
from tfvidgen.models import VideoDCGAN
from tfvidgen.models import VideoVAE


def test_get_strategy_choices(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("TPU_NAME", raising=False)
    monkeypatch.delenv("COLAB_TPU_ADDR", raising=False)
    assert distribute.get_strategy() is tf.distribute.get_strategy()  # CPU only: the default strategy.
    assert (
        distribute.describe(distribute.get_strategy("default")) == "default strategy (no distribution) on 1 replica(s)"
    )
    assert isinstance(distribute.get_strategy("one_device"), tf.distribute.OneDeviceStrategy)
    with pytest.raises(ValueError, match="`strategy` must be one of"):
        distribute.get_strategy("horovod")
    with pytest.raises(ValueError, match="`strategy='tpu'` was asked for but no TPU could be reached"):
        distribute.get_strategy("tpu")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        distribute.get_strategy()


class _PoisonAfter(keras.callbacks.Callback):
    """Sets every weight to NaN after `batch` (what a diverging step does)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            for variable in self.model.trainable_variables:
                variable.assign(tf.fill(variable.shape, np.nan))


@pytest.mark.parametrize("family", ["convlstm", "dcgan"])
def test_last_good_checkpoint_rolls_back_and_stops_on_nan(tmp_path, family):
    keras.utils.set_random_seed(0)
    if family == "convlstm":
        model, dataset = ConvLSTMPredictor.from_preset("tiny"), harness.tiny_pairs(num_clips=16)
    else:  # Logs d_loss and g_loss but no "loss": TerminateOnNaN would never fire.
        model, dataset = VideoDCGAN.from_preset("tiny"), harness.tiny_clips(num_clips=16, batch_size=8)
    model.compile()
    guard = callbacks.LastGoodCheckpoint(str(tmp_path / "last_good.keras"))
    history = model.fit(dataset, epochs=5, verbose=0, callbacks=[guard, _PoisonAfter(epoch=2, batch=1)]).history
    assert len(next(iter(history.values()))) == 3  # Stopped in the third epoch.
    assert guard.stopped_at == 1 and os.path.exists(tmp_path / "last_good.keras")
    assert all(np.isfinite(variable.numpy()).all() for variable in model.trainable_variables)
    saved = keras.models.load_model(tmp_path / "last_good.keras")
    for restored, kept in zip(saved.trainable_variables, model.trainable_variables):
        np.testing.assert_array_equal(restored.numpy(), kept.numpy())


def test_time_limit_stops_training():
    model = ConvLSTMPredictor.from_preset("tiny")
    model.compile()
    limit = callbacks.TimeLimit(minutes=0.0)
    history = model.fit(harness.tiny_pairs(), epochs=3, verbose=0, callbacks=[limit]).history
    assert limit.stopped and len(history["loss"]) == 1


def test_video_samples_writes_gifs_pngs_and_tensorboard_images(tmp_path):
    vae = VideoVAE.from_preset("tiny")
    vae.compile()
    batch = harness.first_batch(harness.tiny_clips(num_clips=8, batch_size=8))
    writer = callbacks.VideoSamples(str(tmp_path / "samples"), batch, every=2, log_dir=str(tmp_path / "logs"))
    vae.fit(harness.tiny_clips(num_clips=8, batch_size=8), epochs=4, verbose=0, callbacks=[writer])
    names = sorted(os.listdir(tmp_path / "samples"))
    assert names == sorted(
        f"{kind}_epoch_{epoch:03d}.{extension}"
        for kind in ("input", "reconstruction", "samples")
        for epoch in (2, 4)
        for extension in ("gif", "png")
    )
    assert os.listdir(tmp_path / "logs" / "samples")

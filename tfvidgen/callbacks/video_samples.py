"""Writes sample videos during training: GIFs, PNG grids and TensorBoard images."""

import os
import sys

import keras
import numpy as np

from tfvidgen import video_io
from tfvidgen.callbacks import previews as previews_lib


def tensorboard_available():
    """Whether `tf.summary` can write (it needs TensorFlow and the `tensorboard` package).

    Off the TensorFlow backend only where TensorFlow is imported already (by a tf.data pipeline, say): a JAX
    run that does not need it must not import it for its logs.
    """
    if keras.backend.backend() != "tensorflow" and "tensorflow" not in sys.modules:
        return False
    try:
        import tensorboard  # noqa: F401
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


class VideoSamples(keras.callbacks.Callback):
    """Every `every` epochs, saves the model's previews as GIF, PNG and TensorBoard images.

    The previews come from `tfvidgen.callbacks.previews.for_model(model,
    batch, seed)` (one per family): the ConvLSTM predictor shows the truth and its rollout after the
    context, the GAN fixed-seed samples, the VAE inputs, reconstructions and
    samples. The same `batch` and `seed` are used every time, so successive
    files show training progress.

    Args:
        directory: where `<name>_epoch_003.gif` and `.png` files go.
        batch: a fixed batch of validation data (what `fit` would receive).
        every: epochs between samples.
        seed: seed of generated samples.
        log_dir: TensorBoard log directory for image summaries (optional;
            needs the `tensorboard` package, which TensorFlow 2.21 no longer
            installs: `pip install tfvidgen[tensorboard]`).
        max_images: previews kept per grid.
        scale: integer upscaling of small frames in the files.
    """

    def __init__(self, directory, batch, every=1, seed=0, log_dir=None, max_images=8, scale=2):
        super().__init__()
        self.directory = directory
        self.batch = batch
        self.every = every
        self.seed = seed
        self.max_images = max_images
        self.scale = scale
        self.writer = None
        if log_dir and tensorboard_available():
            import tensorflow as tf

            self.writer = tf.summary.create_file_writer(os.path.join(log_dir, "samples"))
        self.written = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.write(epoch + 1)

    def write(self, epoch):
        previews = {
            name: np.asarray(clips)[: self.max_images]
            for name, clips in previews_lib.for_model(self.model, self.batch, self.seed).items()
        }
        for name, clips in previews.items():
            stem = os.path.join(self.directory, f"{name}_epoch_{epoch:03d}")
            video_io.write_gif(stem + ".gif", video_io.tile_clips(clips), scale=self.scale)
            video_io.write_png(stem + ".png", video_io.frame_strip_grid(list(clips), scale=self.scale))
            self.written.extend([stem + ".gif", stem + ".png"])
            if self.writer is not None:
                import tensorflow as tf

                with self.writer.as_default():
                    # One image per frame of the first clip: the frames of a video, left to right.
                    tf.summary.image(name, clips[0], step=epoch, max_outputs=clips.shape[1])
        if self.writer is not None:
            self.writer.flush()

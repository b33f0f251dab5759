"""A clip's brightness track: how each frame's brightness departs from the clip's."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfvidgen")
class BrightnessTrack(keras.layers.Layer):
    """Each frame's channel means relative to the clip's: `frame_mean / clip_mean - 1`.

    Relative, so a dim clip and a bright one with the same steady brightness
    both give a flat track of zeros, and a frame at half its clip's
    brightness gives -0.5 whatever the clip's level. For a discriminator
    (`VideoDiscriminator(brightness_filters=...)`): content that fades in and
    out, or frames that flicker, show on this track, where convolutions over
    pixels weigh a few faint pixels little.

    Args:
        epsilon: added to the clip's mean, so an all-black clip's track is 0.

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, frames, channels)`, float32.

    Example:

    >>> brightness = keras.ops.reshape(keras.ops.array([1.0, 1.0, 0.5, 1.5]), (1, 4, 1, 1, 1))
    >>> clips = keras.ops.ones((1, 4, 8, 8, 1)) * brightness
    >>> track = BrightnessTrack(epsilon=0.0)(clips)
    >>> keras.ops.convert_to_numpy(track)[0, :, 0]
    array([ 0. ,  0. , -0.5,  0.5], dtype=float32)
    """

    def __init__(self, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, clips):
        frame_means = ops.mean(ops.cast(clips, "float32"), axis=(2, 3))
        clip_means = ops.mean(frame_means, axis=1, keepdims=True)
        return (frame_means - clip_means) / (clip_means + self.epsilon)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], input_shape[4])

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}

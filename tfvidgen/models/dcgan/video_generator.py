"""The DCGAN video generator: latent vector -> clip."""

import keras
from keras import ops

from tfvidgen import validation
from tfvidgen.layers import blocks
from tfvidgen.models.constructor_config import ConstructorConfig


@keras.saving.register_keras_serializable(package="tfvidgen")
class VideoGenerator(ConstructorConfig, keras.Model):
    """Generates clips from latent vectors with `Conv3DTranspose` stacks.

    DCGAN conventions (Radford et al., 2016): a dense projection to a small
    spatio-temporal map, stride-2 transposed convolutions with batch norm and
    ReLU, no pooling, and a tanh output, here mapped to [0, 1] as
    `(tanh(x) + 1) / 2` so generated clips follow the package's convention.

    With `two_stream=True` it is VGAN's generator (Vondrick et al., 2016): a 3D
    foreground stream that also predicts a mask, and a 2D background stream
    that draws one static image; the clip is
    `mask * foreground + (1 - mask) * background`.

    With `motion_units`, time comes from a recurrent motion path, after
    MoCoGAN (Tulyakov et al., 2018): a GRU started from the latent unrolls it
    into one motion code per frame, and every frame is drawn from
    `(latent, its code)` by the same per-frame stack (kernels spanning one
    frame). The latent fixes the content of all frames and the codes change
    smoothly, so the clip's parts do not fade in and out between frames as
    they can when a 3D stack grows time from a single projected frame.

    Args:
        clip_shape: `(frames, height, width, channels)` to generate; height
            and width divisible by `2 ** len(filters)`.
        latent_dim: size of the latent vector.
        filters: filters of the projection and of each transposed
            convolution but the last (which has `channels` filters).
        two_stream: use VGAN's foreground/mask/background generator.
        synchronized_batch_norm: synchronize batch statistics across replicas.
        upsampling: `"transpose"` (stride-2 `Conv3DTranspose`, DCGAN's) or
            `"resize"` (repeat, then `Conv3D`: no checkerboard; see
            `tfvidgen.layers.blocks.upsample`) for the 3D stream.
        motion_units: `None` (the latent is projected to a spatio-temporal
            map that the 3D stack grows in time), or the units of the GRU of
            the recurrent motion path (not with `two_stream`).

    Input shape:
        `(batch, latent_dim)`.

    Output shape:
        `(batch, frames, height, width, channels)`, float32 in [0, 1].

    Example:

    >>> generator = VideoGenerator((4, 16, 16, 1), latent_dim=8, filters=(16, 8))
    >>> generator(keras.random.normal((2, 8))).shape
    (2, 4, 16, 16, 1)

    Reference:
        Vondrick, Pirsiavash & Torralba, "Generating Videos with Scene
        Dynamics", NeurIPS 2016.
    """

    def __init__(
        self,
        clip_shape=(16, 64, 64, 1),
        latent_dim=100,
        filters=(256, 128, 64, 32),
        two_stream=False,
        synchronized_batch_norm=True,
        upsampling="transpose",
        motion_units=None,
        **kwargs,
    ):
        clip_shape = blocks.check_clip_shape("clip_shape", clip_shape)
        upsampling = validation.one_of("upsampling", upsampling, blocks.UPSAMPLING_MODES)
        latent_dim = validation.positive_int("latent_dim", latent_dim)
        filters = validation.int_list("filters", filters)
        strides, bottom = blocks.strides_for(clip_shape, len(filters))
        channels = clip_shape[-1]
        if motion_units is not None:
            motion_units = validation.positive_int("motion_units", motion_units)
            if two_stream:
                raise ValueError(
                    "`motion_units` draws every frame with one per-frame stack; it cannot be combined with "
                    f"`two_stream=True`. Received: motion_units={motion_units}, two_stream={two_stream}"
                )
            strides = [(1, 2, 2)] * len(filters)  # Time is the motion path's; the stack grows space only.
        per_frame = motion_units is not None

        # === Functional Model ===
        z = keras.Input((latent_dim,), name="latents")
        if per_frame:
            x = _motion_path(z, clip_shape[0], bottom[1:], filters[0], motion_units, synchronized_batch_norm)
        else:
            x = blocks.project_latent(z, bottom, filters[0], synchronized_batch_norm, name="foreground_project")
        x = blocks.upsampling_stack(
            x,
            filters[1:],
            strides[:-1],
            synchronized_batch_norm,
            name="foreground",
            mode=upsampling,
            per_frame=per_frame,
        )
        last_stride = strides[-1]
        if not two_stream:
            x = blocks.upsample(
                x, channels, last_stride, upsampling, "output_deconv", use_bias=True, per_frame=per_frame
            )
            clips = keras.layers.Activation(_tanh_to_unit, dtype="float32", name="clips")(x)
        else:
            x = blocks.upsample(x, channels + 1, last_stride, upsampling, "foreground_deconv", use_bias=True)
            foreground = keras.layers.Activation(_tanh_to_unit, dtype="float32", name="foreground")(x[..., :channels])
            mask = keras.layers.Activation("sigmoid", dtype="float32", name="mask")(x[..., channels:])
            b = blocks.project_latent(z, bottom[1:], filters[0], synchronized_batch_norm, name="background_project")
            for index, layer_filters in enumerate(filters[1:]):
                b = keras.layers.Conv2DTranspose(
                    layer_filters, 4, strides=2, padding="same", use_bias=False, name=f"background_deconv_{index}"
                )(b)
                b = blocks.batch_norm(synchronized_batch_norm, name=f"background_batch_norm_{index}")(b)
                b = keras.layers.ReLU(name=f"background_relu_{index}")(b)
            b = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same", name="background_output")(b)
            background = keras.layers.Activation(_tanh_to_unit, dtype="float32", name="background")(b)
            clips = MaskComposite(dtype="float32", name="clips")([mask, foreground, background])
        super().__init__(inputs=z, outputs=clips, **kwargs)

        # === Config ===
        self.clip_shape = clip_shape
        self.latent_dim = latent_dim
        self.filters = filters
        self.two_stream = bool(two_stream)
        self.synchronized_batch_norm = bool(synchronized_batch_norm)
        self.upsampling = upsampling
        self.motion_units = motion_units


def _motion_path(z, frames, bottom_size, filters, units, synchronized_batch_norm):
    """`(batch, latent)` -> `(batch, frames) + bottom_size + (filters,)`: per-frame maps from a GRU's codes.

    The GRU starts from a projection of the latent and reads the latent at every step; each frame's map is a
    dense projection of the latent and that frame's code (MoCoGAN's content and motion codes).
    """
    content = keras.layers.RepeatVector(frames, name="content_codes")(z)
    state = keras.layers.Dense(units, activation="tanh", name="motion_initial_state")(z)
    motion = keras.layers.GRU(units, return_sequences=True, name="motion_gru")(content, initial_state=state)
    codes = keras.layers.Concatenate(name="frame_codes")([content, motion])
    return blocks.project_latent(
        codes, (frames,) + tuple(bottom_size), filters, synchronized_batch_norm, "frame_project"
    )


@keras.saving.register_keras_serializable(package="tfvidgen")
def _tanh_to_unit(x):
    return 0.5 * (ops.tanh(x) + 1.0)


@keras.saving.register_keras_serializable(package="tfvidgen")
class MaskComposite(keras.layers.Layer):
    """`mask * foreground + (1 - mask) * background`, the static background broadcast over time."""

    def call(self, inputs):
        mask, foreground, background = inputs
        return mask * foreground + (1.0 - mask) * background[:, None]

    def compute_output_shape(self, input_shapes):
        return input_shapes[1]

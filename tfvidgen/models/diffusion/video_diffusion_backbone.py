"""The space-time U-Net of the video diffusion family: per-frame 2D convolutions, frames mixed along time."""

import keras
from keras import ops

from tfvidgen import validation
from tfvidgen.layers import SinusoidalEmbedding
from tfvidgen.layers import TemporalAttention
from tfvidgen.layers import TimeDistributed
from tfvidgen.models.constructor_config import ConstructorConfig


@keras.saving.register_keras_serializable(package="tfvidgen")
class VideoDiffusionBackbone(ConstructorConfig, keras.Model):
    """A factorized space-time U-Net (Ho et al., 2022) that predicts the diffusion target of a noisy clip.

    Space and time are mixed in turn, never by full 3D convolutions:
    - residual blocks of two per-frame 3x3 convolutions (`GroupNorm -> SiLU
      -> Conv2D`), told the noise level and the class by a scale and shift
      after the second normalization (FiLM, as in Dhariwal & Nichol, 2021);
    - after each block a temporal layer: a residual 1D convolution over 3
      frames at every pixel, and at the levels in `temporal_attention_levels`
      self-attention over all frames (`tfvidgen.layers.TemporalAttention`);
    - optional spatial self-attention per frame at the levels in
      `spatial_attention_levels` (the lowest resolution is the cheap one);
    - spatial down- and upsampling only (the frames stay), skips between the
      two halves, and a zero-initialised output convolution, so an untrained
      network predicts 0.

    Conditioning comes in with the noisy clip: `context` frames (clean,
    zeros where unknown) and a per-frame `mask` (1 where the frame is given)
    are stacked on the channels, which is how one network generates, and
    continues a clip (MCVD's masked conditioning, Voleti et al., 2022); the
    `labels` (`num_classes` = no label, for classifier-free guidance) and the
    noise level are embedded and added.

    Args:
        clip_shape: `(frames, height, width, channels)` of the clips it
            denoises (pixels, or a `FrameAutoencoder`'s latents); height and
            width divisible by `2 ** (len(widths) - 1)`.
        widths: channels at each resolution, the first the full one.
        blocks_per_level: residual blocks per resolution (down path; the up
            path has one more).
        temporal_attention_levels: levels (0 = full resolution) with
            temporal self-attention; None: every level but the first.
        spatial_attention_levels: levels with per-frame spatial attention.
        num_heads: heads of each attention layer.
        num_classes: classes of the `labels` input (0: unconditional).
        embedding_dim: size of the noise-level embedding.
        groups: group-normalization groups.
        dropout: dropout rate inside the residual blocks.

    Inputs (a dict):
        `noisy`: `(batch,) + clip_shape`; `noise_level`: `(batch,)` time in
        [0, 1]; `context`: `(batch,) + clip_shape`; `mask`: `(batch, frames)`;
        `labels`: int `(batch,)` in `[0, num_classes]`.

    Output shape:
        `(batch,) + clip_shape`, float32.

    Example:

    >>> backbone = VideoDiffusionBackbone((4, 8, 8, 2), widths=(16, 32), num_classes=10)
    >>> inputs = {"noisy": keras.ops.zeros((2, 4, 8, 8, 2)), "noise_level": keras.ops.ones((2,)),
    ...           "context": keras.ops.zeros((2, 4, 8, 8, 2)), "mask": keras.ops.zeros((2, 4)),
    ...           "labels": keras.ops.array([3, 10])}
    >>> backbone(inputs).shape
    (2, 4, 8, 8, 2)

    Reference:
        Ho et al., "Video Diffusion Models", NeurIPS 2022. Voleti et al.,
        "MCVD: Masked Conditional Video Diffusion for Prediction, Generation,
        and Interpolation", NeurIPS 2022. Dhariwal & Nichol, "Diffusion Models
        Beat GANs on Image Synthesis", NeurIPS 2021.
    """

    def __init__(
        self,
        clip_shape=(16, 16, 16, 4),
        widths=(64, 128, 128),
        blocks_per_level=1,
        temporal_attention_levels=None,
        spatial_attention_levels=(),
        num_heads=4,
        num_classes=10,
        embedding_dim=128,
        groups=8,
        dropout=0.0,
        **kwargs,
    ):
        frames, height, width, channels = _shape("clip_shape", clip_shape)
        widths = validation.int_list("widths", widths)
        if not widths or any(value < 1 for value in widths):
            raise ValueError(f"`widths` must be positive ints, one per resolution. Received: widths={widths}")
        blocks_per_level = validation.positive_int("blocks_per_level", blocks_per_level)
        levels = len(widths)
        if temporal_attention_levels is None:
            temporal_attention_levels = tuple(range(1, levels))
        temporal_attention_levels = _levels("temporal_attention_levels", temporal_attention_levels, levels)
        spatial_attention_levels = _levels("spatial_attention_levels", spatial_attention_levels, levels)
        num_heads = validation.positive_int("num_heads", num_heads)
        num_classes = validation.non_negative_int("num_classes", num_classes)
        embedding_dim = validation.positive_int("embedding_dim", embedding_dim)
        groups = validation.positive_int("groups", groups)
        factor = 2 ** (levels - 1)
        if height % factor or width % factor:
            raise ValueError(
                f"`clip_shape`'s height and width ({height}x{width}) must divide by 2**(len(widths) - 1) = {factor}. "
                f"Received: clip_shape={clip_shape}, widths={widths}"
            )
        for level in set(temporal_attention_levels) | set(spatial_attention_levels):
            if widths[level] % num_heads:
                raise ValueError(
                    f"`num_heads` ({num_heads}) must divide the width of every attention level; widths[{level}] = "
                    f"{widths[level]}"
                )

        # === Functional Model ===
        shape = (frames, height, width, channels)
        inputs = {
            "noisy": keras.Input(shape, name="noisy"),
            "noise_level": keras.Input((), name="noise_level"),
            "context": keras.Input(shape, name="context"),
            "mask": keras.Input((frames,), name="mask"),
            "labels": keras.Input((), dtype="int32", name="labels"),
        }
        embedding = SinusoidalEmbedding(embedding_dim, name="noise_level_embedding")(inputs["noise_level"])
        embedding = keras.layers.Dense(4 * embedding_dim, activation="silu", name="embedding_dense_0")(embedding)
        embedding = keras.layers.Dense(4 * embedding_dim, name="embedding_dense_1")(embedding)
        if num_classes:
            label_embedding = keras.layers.Embedding(num_classes + 1, 4 * embedding_dim, name="label_embedding")
            embedding = keras.layers.Add(name="conditioning")([embedding, label_embedding(inputs["labels"])])
        embedding = keras.layers.Activation("silu", name="conditioning_silu")(embedding)

        mask = keras.layers.Reshape((frames, 1, 1, 1), name="mask_frames")(inputs["mask"])
        masked_context = keras.layers.Multiply(name="masked_context")([inputs["context"], mask])
        x = keras.layers.Concatenate(name="conditioned_input")(
            [inputs["noisy"], masked_context, _broadcast_mask(mask, height, width)]
        )
        x = _conv(x, widths[0], "input")
        skips = [x]
        settings = dict(embedding=embedding, groups=groups, dropout=dropout, num_heads=num_heads)
        for level, filters in enumerate(widths):
            for block in range(blocks_per_level):
                x = _level_block(
                    x,
                    filters,
                    level,
                    temporal_attention_levels,
                    spatial_attention_levels,
                    f"down_{level}_{block}",
                    **settings,
                )
                skips.append(x)
            if level < levels - 1:
                x = _conv(x, filters, f"down_{level}_downsample", strides=2)
                skips.append(x)
        x = _level_block(x, widths[-1], levels - 1, (levels - 1,), spatial_attention_levels, "middle", **settings)
        for level in reversed(range(levels)):
            for block in range(blocks_per_level + 1):
                x = keras.layers.Concatenate(name=f"up_{level}_{block}_skip")([x, skips.pop()])
                x = _level_block(
                    x,
                    widths[level],
                    level,
                    temporal_attention_levels,
                    spatial_attention_levels,
                    f"up_{level}_{block}",
                    **settings,
                )
            if level > 0:
                x = TimeDistributed(
                    keras.layers.UpSampling2D(2, name=f"up_{level}_upsample2d"), name=f"up_{level}_upsample"
                )(x)
                x = _conv(x, widths[level - 1], f"up_{level}_upsample_conv")
        x = keras.layers.GroupNormalization(min(groups, widths[0]), epsilon=1e-5, name="output_norm")(x)
        x = keras.layers.Activation("silu", name="output_silu")(x)
        outputs = TimeDistributed(
            keras.layers.Conv2D(channels, 3, padding="same", kernel_initializer="zeros", name="output_conv2d"),
            name="output_conv",
        )(x)
        outputs = keras.layers.Activation("linear", dtype="float32", name="prediction")(outputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.clip_shape = shape
        self.widths = widths
        self.blocks_per_level = blocks_per_level
        self.temporal_attention_levels = temporal_attention_levels
        self.spatial_attention_levels = spatial_attention_levels
        self.num_heads = num_heads
        self.num_classes = num_classes
        self.embedding_dim = embedding_dim
        self.groups = groups
        self.dropout = dropout


def _shape(name, value):
    """`(frames, height, width, channels)` of positive ints (latent clips may have any number of channels)."""
    value = tuple(value) if isinstance(value, (tuple, list)) else value
    if not isinstance(value, tuple) or len(value) != 4:
        raise ValueError(f"`{name}` must be (frames, height, width, channels). Received: {name}={value!r}")
    return tuple(validation.positive_int(f"{name}[{index}]", size) for index, size in enumerate(value))


def _levels(name, levels, count):
    levels = tuple(levels) if isinstance(levels, (tuple, list)) else (levels,)
    if any(isinstance(level, bool) or not isinstance(level, int) or not 0 <= level < count for level in levels):
        raise ValueError(f"`{name}` must hold levels in [0, {count - 1}] (one per width). Received: {name}={levels}")
    return levels


def _broadcast_mask(mask, height, width):
    """`(batch, frames, 1, 1, 1)` -> `(batch, frames, height, width, 1)`, by an `UpSampling3D` of the size."""
    return keras.layers.UpSampling3D((1, height, width), name="mask_channel")(mask)


def _conv(x, filters, name, strides=1, kernel_size=3, **kwargs):
    conv = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same", name=f"{name}_conv2d", **kwargs)
    return TimeDistributed(conv, name=f"{name}_conv")(x)


def _level_block(x, filters, level, temporal_attention, spatial_attention, name, **settings):
    x = _residual_block(x, filters, name, settings["embedding"], settings["groups"], settings["dropout"])
    x = _temporal_conv(x, filters, settings["groups"], f"{name}_temporal")
    if level in temporal_attention:
        x = TemporalAttention(settings["num_heads"], settings["groups"], name=f"{name}_temporal_attention")(x)
    if level in spatial_attention:
        x = _spatial_attention(x, filters, settings["num_heads"], settings["groups"], f"{name}_spatial_attention")
    return x


def _residual_block(x, filters, name, embedding, groups, dropout):
    """`x + conv(FiLM(norm(conv(silu(norm(x))))))`, the FiLM from the conditioning embedding."""
    skip = x if x.shape[-1] == filters else _conv(x, filters, f"{name}_skip", kernel_size=1)
    h = keras.layers.GroupNormalization(min(groups, x.shape[-1]), epsilon=1e-5, name=f"{name}_norm_0")(x)
    h = keras.layers.Activation("silu", name=f"{name}_silu_0")(h)
    h = _conv(h, filters, f"{name}_0")
    h = keras.layers.GroupNormalization(min(groups, filters), epsilon=1e-5, name=f"{name}_norm_1")(h)
    film = keras.layers.Dense(2 * filters, kernel_initializer="zeros", name=f"{name}_film")(embedding)
    film = keras.layers.Reshape((1, 1, 1, 2 * filters), name=f"{name}_film_frames")(film)
    h = _FiLM(name=f"{name}_modulate")([h, film])
    h = keras.layers.Activation("silu", name=f"{name}_silu_1")(h)
    if dropout:
        h = keras.layers.Dropout(dropout, name=f"{name}_dropout")(h)
    h = _conv(h, filters, f"{name}_1", kernel_initializer="zeros")
    return keras.layers.Add(name=f"{name}_residual")([skip, h])


def _temporal_conv(x, filters, groups, name):
    """`x + Conv3D(3x1x1)(silu(norm(x)))`: each pixel mixes its neighbouring frames; starts as the identity."""
    h = keras.layers.GroupNormalization(min(groups, filters), epsilon=1e-5, name=f"{name}_norm")(x)
    h = keras.layers.Activation("silu", name=f"{name}_silu")(h)
    h = keras.layers.Conv3D(filters, (3, 1, 1), padding="same", kernel_initializer="zeros", name=f"{name}_conv3d")(h)
    return keras.layers.Add(name=f"{name}_residual")([x, h])


def _spatial_attention(x, filters, num_heads, groups, name):
    """Per-frame self-attention over the pixels (time folded into the batch); the output projection starts at 0."""
    h = keras.layers.GroupNormalization(min(groups, filters), epsilon=1e-5, name=f"{name}_norm")(x)
    attention = keras.layers.MultiHeadAttention(
        num_heads, filters // num_heads, output_shape=filters, kernel_initializer="glorot_uniform", name=f"{name}_mha"
    )
    h = _FramePixels(attention, name=name)(h)
    return keras.layers.Add(name=f"{name}_residual")([x, h])


@keras.saving.register_keras_serializable(package="tfvidgen")
class _FiLM(keras.layers.Layer):
    """`h * (1 + scale) + shift`, with `(scale, shift)` the two halves of the second input's channels."""

    def call(self, inputs):
        h, film = inputs
        scale, shift = ops.split(ops.cast(film, h.dtype), 2, axis=-1)
        return h * (1.0 + scale) + shift

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


@keras.saving.register_keras_serializable(package="tfvidgen")
class _FramePixels(keras.layers.Layer):
    """Runs a sequence layer on each frame's pixels: `(b, f, h, w, c)` -> `(b * f, h * w, c)` and back."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape):
        sequence = (None, input_shape[2] * input_shape[3], input_shape[4])
        self.layer.build(sequence, sequence)

    def call(self, inputs):
        shape = ops.shape(inputs)
        sequence = ops.reshape(inputs, (-1, inputs.shape[2] * inputs.shape[3], inputs.shape[4]))
        return ops.reshape(self.layer(sequence, sequence), shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "layer": keras.saving.serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config):
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
        return cls(**config)

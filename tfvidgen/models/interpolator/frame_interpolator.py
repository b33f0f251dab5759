"""U-Net frame interpolator: two neighbour frames -> the frame between them."""

import keras
from keras import ops

from tfvidgen import validation
from tfvidgen.losses import L1L2
from tfvidgen.metrics import frame_metrics
from tfvidgen.models.interpolator.frame_interpolator_presets import FRAME_INTERPOLATOR_PRESETS
from tfvidgen.models.interpolator_model import InterpolatorModel

LOSSES = {
    "l1": keras.losses.MeanAbsoluteError,
    "mse": keras.losses.MeanSquaredError,
    "l1_l2": L1L2,
}


@keras.saving.register_keras_serializable(package="tfvidgen")
class FrameInterpolator(InterpolatorModel, keras.Model):
    """Predicts the middle frame between two frames with a U-Net.

    The two neighbours are stacked on the channel axis and run through a U-Net
    (Ronneberger et al., 2015): per level two 3x3 ReLU convolutions, the first
    of each level below the top with stride 2, and a decoder of bilinear
    upsampling, concatenation with the encoder's features at that scale, and
    two convolutions. A zero-initialised head predicts, per pixel, a blend
    weight `w` (with `learned_blend`) and a residual `r`:

        middle = clip(w * frame_a + (1 - w) * frame_b + r, 0, 1)

    (the clip passes gradients through unchanged), so an untrained model is
    exactly linear blending (`w = 0.5`, `r = 0`) and training starts from
    blending's loss. The weights let the model pick the neighbour where an
    object is occluded or uncovered; the residual moves
    content that blending would ghost. `fit` takes `(neighbours, middle)`
    pairs, e.g. from `tfvidgen.data.interpolation_triplets`; the default
    `compile()` is Adam(1e-3), L1 loss and PSNR.

    Args:
        frame_shape: `(height, width, channels)`; height and width divisible
            by `2 ** (len(filters) - 1)`.
        filters: filters of each U-Net level, top (full resolution) first;
            `len(filters) - 1` stride-2 downsamplings.
        kernel_size: spatial kernel of every convolution.
        learned_blend: predict per-pixel blend weights; `False` blends with
            0.5 and learns only the residual.

    Input shape:
        `(batch, 2, height, width, channels)`: frames t and t + 2, float32 in
        [0, 1].

    Output shape:
        `(batch, height, width, channels)`: frame t + 1, float32 in [0, 1].
        `interpolate_clip(clip, factor)`: `((frames - 1) * factor + 1, height,
        width, channels)`.

    Example:

    >>> model = FrameInterpolator.from_preset("tiny")
    >>> model.compile()
    >>> model.fit(tfvidgen.data.interpolation_triplets(clips).batch(8), epochs=1)
    >>> model.interpolate(frames[:-1], frames[1:]).shape
    TensorShape([7, 16, 16, 1])
    >>> model.interpolate_clip(frames, factor=4).shape
    TensorShape([29, 16, 16, 1])

    Reference:
        Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for
        Biomedical Image Segmentation", MICCAI 2015. Niklaus, Mai & Liu, "Video
        Frame Interpolation via Adaptive Separable Convolution", ICCV 2017 (L1
        loss, U-Net with skip connections). Jiang et al., "Super SloMo: High
        Quality Estimation of Multiple Intermediate Frames for Video
        Interpolation", CVPR 2018 (per-pixel blending of the two inputs).
    """

    presets = FRAME_INTERPOLATOR_PRESETS
    family = "interpolator"
    checkpoint_monitor = "val_loss"
    pretrained = {
        "moving_mnist": "interpolator_cpu_small"
    }  # saved_models/interpolator_cpu_small: from_preset("moving_mnist").

    def __init__(self, frame_shape=(64, 64, 1), filters=(32, 64, 96, 128), kernel_size=3, learned_blend=True, **kwargs):
        height, width, channels = validation.frame_shape("frame_shape", frame_shape)
        filters = validation.int_list("filters", filters)
        scale = 2 ** (len(filters) - 1)
        if height % scale or width % scale:
            raise ValueError(
                f"`frame_shape` height and width must be divisible by 2 ** (len(filters) - 1) = {scale} "
                f"({len(filters)} U-Net levels). Received: frame_shape={(height, width, channels)!r}, "
                f"filters={filters!r}"
            )
        kernel_size = validation.positive_int("kernel_size", kernel_size)
        if not isinstance(learned_blend, bool):
            raise TypeError(f"`learned_blend` must be a bool. Received: learned_blend={learned_blend!r}")

        # === Layers ===
        def convolution(layer_filters, name, strides=1):
            return keras.layers.Conv2D(
                layer_filters, kernel_size, strides=strides, padding="same", activation="relu", name=name
            )

        encoder = [
            [
                convolution(level_filters, f"encoder_{level}_a", strides=1 if level == 0 else 2),
                convolution(level_filters, f"encoder_{level}_b"),
            ]
            for level, level_filters in enumerate(filters)
        ]
        decoder = [
            [convolution(filters[level], f"decoder_{level}_a"), convolution(filters[level], f"decoder_{level}_b")]
            for level in range(len(filters) - 1)
        ]
        upsampling = keras.layers.UpSampling2D(2, interpolation="bilinear", name="upsampling")
        # Zero-initialised: the untrained model blends linearly. float32 under mixed precision.
        head = keras.layers.Conv2D(
            channels + int(learned_blend),
            kernel_size,
            padding="same",
            kernel_initializer="zeros",
            dtype="float32",
            name="head",
        )

        # === Functional Model ===
        neighbours = keras.Input(shape=(2, height, width, channels), name="neighbours")
        frame_a, frame_b = neighbours[:, 0], neighbours[:, 1]
        x = ops.concatenate([frame_a, frame_b], axis=-1)
        skips = []
        for first, second in encoder:
            x = second(first(x))
            skips.append(x)
        for level in reversed(range(len(filters) - 1)):
            x = ops.concatenate([upsampling(x), skips[level]], axis=-1)  # (batch, H / 2**level, W / 2**level, ...)
            first, second = decoder[level]
            x = second(first(x))
        x = head(x)
        residual = x[..., :channels]
        weight = ops.sigmoid(x[..., channels:]) if learned_blend else 0.5
        middle = weight * frame_a + (1.0 - weight) * frame_b + residual
        # Clipped in value, not in gradient (straight-through): with a hard clip the residual
        # pushed all of Moving MNIST's black background below 0, where no gradient reaches it,
        # and training stalled at the all-black frame's loss.
        middle = middle + ops.stop_gradient(ops.clip(middle, 0.0, 1.0) - middle)
        middle = ops.clip(middle, 0.0, 1.0)  # The sum above may round past 1 by an ulp.
        super().__init__(inputs=neighbours, outputs=middle, **kwargs)

        # === Config ===
        self.frame_shape = (height, width, channels)
        self.filters = filters
        self.kernel_size = kernel_size
        self.learned_blend = learned_blend

        self.encoder_layers = encoder
        self.decoder_layers = decoder
        self.head = head

    def compile(self, optimizer="auto", loss="l1", metrics="auto", **kwargs):
        """Compiles with defaults that train straight away.

        Args:
            optimizer: an optimizer; `"auto"` is Adam with learning rate 1e-3.
            loss: `"l1"` (default, as interpolation papers train), `"mse"`,
                `"l1_l2"`, or a Keras loss.
            metrics: `"auto"` is `PSNR`.
            **kwargs: passed to `keras.Model.compile`.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        if isinstance(loss, str) and loss in LOSSES:
            loss = LOSSES[loss]()
        if metrics == "auto":
            metrics = [frame_metrics.PSNR()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def input_shapes(self, x, y):
        """`(neighbours, middle)` batches, as `tfvidgen.data.interpolation_triplets` gives them."""
        shapes = [("the neighbours", x, (None, 2) + self.frame_shape)]
        return shapes if y is None else shapes + [("the middle frames", y, (None,) + self.frame_shape)]

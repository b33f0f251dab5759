"""The ConvLSTM network: frames in, the prediction of each next frame out."""

import keras
from keras import ops

from tfvidgen import validation
from tfvidgen.layers import DepthToSpace
from tfvidgen.layers import SpaceToDepth
from tfvidgen.models.constructor_config import ConstructorConfig


@keras.saving.register_keras_serializable(package="tfvidgen")
class ConvLSTMBackbone(ConstructorConfig, keras.Model):
    """Stacked `ConvLSTM2D` layers between space-to-depth patching and a per-frame head.

    Frames are optionally folded into patches (space-to-depth, as OpenSTL
    does), run through stacked `keras.layers.ConvLSTM2D` layers, and mapped
    back to a frame by a per-frame head. The network is causal: output `t`,
    the prediction of frame `t + 1`, depends on frames `<= t` only (the head's
    temporal kernel is 1). `step` runs the same layers one frame at a time,
    for the predictor's rollout.

    Args:
        frame_shape: `(height, width, channels)`; height and width divisible by
            `patch_size`. ConvLSTM layers need them static.
        filters: filters of each ConvLSTM layer (one int per layer).
        kernel_sizes: kernel size of each layer (an int for all).
        patch_size: space-to-depth patch side (1 for none).
        head_kernel_size: spatial kernel of the per-frame output convolution.
        output_activation: `"sigmoid"` keeps frames in [0, 1].

    Input shape:
        `(batch, frames, height, width, channels)`.

    Output shape:
        `(batch, frames, height, width, channels)` float32: output `t` predicts
        input frame `t + 1`.

    Example:

    >>> backbone = ConvLSTMBackbone(frame_shape=(16, 16, 1), filters=(8,))
    >>> backbone(keras.ops.zeros((2, 3, 16, 16, 1))).shape
    (2, 3, 16, 16, 1)

    Reference:
        Shi et al., "Convolutional LSTM Network: A Machine Learning Approach for
        Precipitation Nowcasting", NeurIPS 2015.
    """

    def __init__(
        self,
        frame_shape=(64, 64, 1),
        filters=(64, 64),
        kernel_sizes=3,
        patch_size=1,
        head_kernel_size=1,
        output_activation="sigmoid",
        **kwargs,
    ):
        height, width, channels = validation.frame_shape("frame_shape", frame_shape)
        patch_size = validation.positive_int("patch_size", patch_size)
        if height % patch_size or width % patch_size:
            raise ValueError(
                f"`patch_size` ({patch_size}) must divide the frame height and width "
                f"({height}x{width}). Received: patch_size={patch_size}"
            )
        filters = validation.int_list("filters", filters)
        kernel_sizes = validation.int_list("kernel_sizes", kernel_sizes, length=len(filters))
        head_kernel_size = validation.positive_int("head_kernel_size", head_kernel_size)

        # === Layers ===
        space_to_depth = SpaceToDepth(patch_size, name="space_to_depth")
        recurrent_layers = [
            keras.layers.ConvLSTM2D(
                layer_filters, kernel_size, padding="same", return_sequences=True, name=f"conv_lstm_{index}"
            )
            for index, (layer_filters, kernel_size) in enumerate(zip(filters, kernel_sizes))
        ]
        # Causal: a temporal kernel of 1 keeps the head from seeing frame t+1.
        head = keras.layers.Conv3D(
            channels * patch_size**2, (1, head_kernel_size, head_kernel_size), padding="same", name="head"
        )
        depth_to_space = DepthToSpace(patch_size, name="depth_to_space")
        activation = keras.layers.Activation(output_activation, dtype="float32", name="next_frame")

        # === Functional Model ===
        frames = keras.Input(shape=(None, height, width, channels), name="frames")
        x = space_to_depth(frames)
        for layer in recurrent_layers:
            x = layer(x)
        outputs = activation(depth_to_space(head(x)))
        super().__init__(inputs=frames, outputs=outputs, **kwargs)

        # === Config ===
        self.frame_shape = (height, width, channels)
        self.filters = filters
        self.kernel_sizes = kernel_sizes
        self.patch_size = patch_size
        self.head_kernel_size = head_kernel_size
        self.output_activation = output_activation

        self.space_to_depth = space_to_depth
        self.recurrent_layers = recurrent_layers
        self.head = head
        self.depth_to_space = depth_to_space
        self.activation_layer = activation

    # === One frame at a time ===

    def initial_states(self, batch_size):
        """Zero `(hidden, carry)` per layer, each `(batch, height / patch, width / patch, filters)`."""
        height, width = self.frame_shape[0] // self.patch_size, self.frame_shape[1] // self.patch_size
        dtype = self.recurrent_layers[0].compute_dtype
        return [
            (ops.zeros((batch_size, height, width, f), dtype), ops.zeros((batch_size, height, width, f), dtype))
            for f in self.filters
        ]

    def step(self, frame, states, training=False):
        """One frame `(batch, height, width, channels)` -> (next-frame prediction, new states)."""
        x = self.space_to_depth(frame[:, None])[:, 0]
        new_states = []
        for layer, (hidden, carry) in zip(self.recurrent_layers, states):
            x, (hidden, carry) = layer.cell(x, [hidden, carry], training=training)
            new_states.append((hidden, carry))
        prediction = self.activation_layer(self.depth_to_space(self.head(x[:, None])))[:, 0]
        return prediction, new_states

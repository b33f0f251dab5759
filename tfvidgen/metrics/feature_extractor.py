"""Feature spaces for the Fréchet distance between clip sets.

Offline default: a small 3D-conv classifier that tfvidgen trains on generated
Moving MNIST to recognise which digits appear and which ways they move; its
128-d penultimate layer is the feature space. It is built from stock Keras
layers only, so the shipped `.keras` file loads without tfvidgen. Train it with

    tfvidgen features --out tfvidgen/assets/moving_mnist_features

Real FVD (Unterthiner et al., 2018) uses the Kinetics-400 I3D network; give its
SavedModel path (or a TF-Hub handle, with `tensorflow_hub` installed and
internet access) to `load_feature_extractor`.
"""

import importlib.resources
import json
import math
import os
import time

import keras
import numpy as np
from keras import ops

FEATURE_CLIP_SHAPE = (16, 64, 64, 1)
NUM_DIRECTIONS = 8
CLASSIFIER_FILE = "classifier.keras"
# Package data (pyproject's package-data), so wheels and non-editable installs have it too.
DEFAULT_DIRECTORY = str(importlib.resources.files("tfvidgen") / "assets" / "moving_mnist_features")


def build_feature_classifier(clip_shape=FEATURE_CLIP_SHAPE, width=24, feature_dim=128):
    """The Moving MNIST digit-and-motion classifier (stock Keras layers only).

    Per-frame spatial convolutions, then spatio-temporal ones, then a global
    max pool (a digit is a small, sparse thing in the frame: averaging over
    the frame dilutes it). Outputs logits `{"digits": (batch, 10), "motion":
    (batch, 8)}`: which digits appear and which of 8 compass directions the
    digits move in (multi-label). The `features` layer is the embedding used
    for distances.
    """
    clips = keras.Input(clip_shape, name="clips")
    x = clips
    spatial, spatio_temporal = (1, 3, 3), (3, 3, 3)
    layers = [(width, spatial, (1, 2, 2)), (2 * width, spatial, (1, 2, 2))]
    layers += [(4 * width, spatio_temporal, (1, 2, 2)), (4 * width, spatio_temporal, (2, 2, 2))]
    for index, (filters, kernel, strides) in enumerate(layers):
        x = keras.layers.Conv3D(filters, kernel, strides, padding="same", activation="relu", name=f"conv_{index}")(x)
    x = keras.layers.GlobalMaxPooling3D(name="pool")(x)
    features = keras.layers.Dense(feature_dim, activation="relu", name="features")(x)
    outputs = {
        "digits": keras.layers.Dense(10, name="digits")(features),
        "motion": keras.layers.Dense(NUM_DIRECTIONS, name="motion")(features),
    }
    return keras.Model(clips, outputs, name="moving_mnist_features")


def moving_mnist_targets(element):
    """Multi-hot digit and motion-direction targets from `moving_mnist(return_metadata=True)`."""
    import tensorflow as tf  # Training the classifier reads tf.data; using it (JAX included) does not.

    digits = tf.reduce_max(tf.one_hot(element["labels"], 10), axis=0)
    step = tf.cast(element["trajectories"][1] - element["trajectories"][0], tf.float32)  # (digits, 2): dy, dx
    angle = tf.atan2(step[:, 0], step[:, 1])
    bins = tf.cast(tf.round(angle / (2 * math.pi / NUM_DIRECTIONS)), tf.int32) % NUM_DIRECTIONS
    moving = tf.reduce_any(step != 0.0, axis=-1)
    motion = tf.reduce_max(tf.one_hot(bins, NUM_DIRECTIONS) * tf.cast(moving, tf.float32)[:, None], axis=0)
    return element["frames"], {"digits": digits, "motion": motion}


def train_feature_classifier(out, steps=2000, batch_size=32, seed=0, validation_clips=512):
    """Trains the classifier on generated Moving MNIST and saves `out/classifier.keras`.

    Returns:
        A dict of held-out accuracies and the training time, also saved to
        `out/metrics.json`.
    """
    import tensorflow as tf

    from tfvidgen.data import moving_mnist

    keras.utils.set_random_seed(seed)
    num_frames, height, width, channels = FEATURE_CLIP_SHAPE

    def source(split, num_clips=None):
        return moving_mnist(
            num_clips=num_clips,
            num_frames=num_frames,
            frame_size=(height, width),
            channels=channels,
            split=split,
            seed=seed,
            return_metadata=True,
        ).map(moving_mnist_targets, num_parallel_calls=tf.data.AUTOTUNE)

    model = build_feature_classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss={
            "digits": keras.losses.BinaryCrossentropy(from_logits=True),
            "motion": keras.losses.BinaryCrossentropy(from_logits=True),
        },
        metrics={
            "digits": [keras.metrics.BinaryAccuracy(threshold=0.0)],
            "motion": [keras.metrics.BinaryAccuracy(threshold=0.0)],
        },
    )
    start = time.monotonic()
    # Ten epochs of steps/10 so that progress is printed as it goes.
    epochs = min(10, steps)
    # shuffle=False: the generated stream is random already (Keras warns that it ignores shuffle on a dataset).
    model.fit(
        source("train").batch(batch_size).prefetch(2),
        steps_per_epoch=steps // epochs,
        epochs=epochs,
        shuffle=False,
        verbose=2,
    )
    seconds = time.monotonic() - start
    held_out = source("validation", validation_clips).batch(batch_size)
    correct = {"digits": [], "motion": []}
    for clips, targets in held_out:
        logits = model(clips)
        for name in correct:
            correct[name].append((logits[name].numpy() > 0) == (targets[name].numpy() > 0.5))
    correct = {name: np.concatenate(values) for name, values in correct.items()}
    results = {
        "held_out_clips": validation_clips,
        "digit_set_exact_match": float(correct["digits"].all(axis=1).mean()),
        "digit_label_accuracy": float(correct["digits"].mean()),
        "motion_set_exact_match": float(correct["motion"].all(axis=1).mean()),
        "motion_label_accuracy": float(correct["motion"].mean()),
        "train_steps": (steps // epochs) * epochs,
        "batch_size": batch_size,
        "train_minutes": round(seconds / 60, 1),
    }
    os.makedirs(out, exist_ok=True)
    # An inference asset: the weights without the optimizer's slots (which were two thirds of the file).
    inference = keras.models.clone_model(model)
    inference.set_weights(model.get_weights())
    inference.save(os.path.join(out, CLASSIFIER_FILE))
    with open(os.path.join(out, "metrics.json"), "w") as file:
        json.dump(results, file, indent=2)
    return results


def resample_clips(clips, clip_shape):
    """Resizes `(batch, T, H, W, C)` clips in [0, 1] to `clip_shape` (frames by nearest index), on any backend."""
    clips = ops.convert_to_tensor(clips, "float32")
    frames, height, width, channels = clip_shape
    indices = np.round(np.linspace(0.0, clips.shape[1] - 1, frames, dtype=np.float32)).astype("int32")
    clips = ops.take(clips, indices, axis=1)
    batch = clips.shape[0]
    flat = ops.reshape(clips, (-1,) + tuple(clips.shape[2:]))
    if flat.shape[-1] == 3 and channels == 1:
        flat = ops.image.rgb_to_grayscale(flat)
    elif flat.shape[-1] == 1 and channels == 3:
        flat = ops.repeat(flat, 3, axis=-1)
    flat = ops.image.resize(flat, (height, width), interpolation="bilinear", antialias=True)
    return ops.reshape(flat, (batch, frames, height, width, channels))


class ClipFeatures:
    """Maps clips in [0, 1] of any shape to feature vectors with a fixed network.

    Args:
        function: `clips -> features` on preprocessed clips.
        clip_shape: the clip shape the network takes.
        value_range: `(0, 1)` or `(-1, 1)`, the input scaling it expects.
        batch_size: clips per call.
    """

    def __init__(self, function, clip_shape, value_range=(0.0, 1.0), batch_size=32, name="features"):
        self.function = function
        self.clip_shape = tuple(clip_shape)
        self.value_range = value_range
        self.batch_size = batch_size
        self.name = name

    def __call__(self, clips):
        outputs = []
        for start in range(0, len(clips), self.batch_size):
            batch = resample_clips(clips[start : start + self.batch_size], self.clip_shape)
            low, high = self.value_range
            outputs.append(np.asarray(self.function(batch * (high - low) + low), np.float64))
        return np.concatenate(outputs).reshape(len(clips), -1)


def load_feature_extractor(spec=None, batch_size=32):
    """A `ClipFeatures` for the Fréchet distance.

    Args:
        spec: `None` for the shipped Moving MNIST classifier (from
            `$TFVIDGEN_FEATURES` or the package data
            `tfvidgen/assets/moving_mnist_features/`), a `.keras` classifier (its
            `features` layer), a SavedModel directory of the Kinetics-400 I3D
            network (inputs `(batch, frames, 224, 224, 3)` in [-1, 1], FVD's
            convention; its first output is used), or `hub:HANDLE` for a
            TF-Hub handle (needs `tensorflow_hub` and internet access).

    Raises:
        FileNotFoundError: when the default classifier is not found, saying how
            to train it or where to point.
    """
    if spec is None:
        directory = os.environ.get("TFVIDGEN_FEATURES", DEFAULT_DIRECTORY)
        spec = os.path.join(directory, CLASSIFIER_FILE)
        if not os.path.exists(spec):
            raise FileNotFoundError(
                f"The Moving MNIST feature classifier is not at {spec!r}. Train it with `tfvidgen features "
                "--out DIR` and set TFVIDGEN_FEATURES=DIR, or pass a "
                "feature extractor (a .keras classifier or an I3D SavedModel)."
            )
    if spec.startswith("hub:"):
        try:
            import tensorflow_hub as hub
        except ImportError as error:
            raise ImportError(
                "`hub:` feature extractors need `pip install tensorflow_hub` and internet access."
            ) from error
        return _i3d(hub.load(spec[len("hub:") :]), batch_size)
    if spec.endswith(".keras"):
        classifier = keras.models.load_model(spec, compile=False)
        embedding = keras.Model(classifier.input, classifier.get_layer("features").output)
        return ClipFeatures(
            lambda clips: embedding(clips, training=False),
            classifier.input.shape[1:],
            batch_size=batch_size,
            name=os.path.basename(os.path.dirname(os.path.abspath(spec))),
        )
    import tensorflow as tf  # An I3D SavedModel is a TensorFlow graph.

    if tf.io.gfile.exists(os.path.join(spec, "saved_model.pb")):
        return _i3d(tf.saved_model.load(spec), batch_size)
    raise FileNotFoundError(f"No feature extractor at {spec!r}: expected a .keras file or a SavedModel directory.")


def _i3d(loaded, batch_size):
    signatures = getattr(loaded, "signatures", {})
    signature = signatures.get("default") or signatures.get("serving_default")
    if signature is None:
        raise ValueError("The I3D SavedModel has neither a 'default' nor a 'serving_default' signature.")
    (input_name,) = signature.structured_input_signature[1].keys()

    def features(clips):
        outputs = signature(**{input_name: clips})
        return outputs["default"] if "default" in outputs else next(iter(outputs.values()))

    return ClipFeatures(features, (16, 224, 224, 3), value_range=(-1.0, 1.0), batch_size=min(batch_size, 8), name="i3d")

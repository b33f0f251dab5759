"""Where a training step's time goes: forward + backward milliseconds of every layer of a family's networks.

    python benchmarks/layer_profile.py --family vae [--preset cpu_small] \
        [--variant ""] [--variant "time_halvings=2"] [--repeats 7]

Builds the preset (one model per `--variant`: space-separated `KEY=JSON`
config overrides, parsed as `tfvidgen train --set`; the empty string is the
preset itself), feeds each Functional sub-network (`encoder`, `decoder`,
`generator`, `discriminator`, `backbone`) a batch of the preset's batch size,
and times each layer alone under `tf.function`: its forward pass in training
mode and the gradients of the sum of its squared outputs with respect to its
input and weights (median of `--repeats` calls after a warm-up). The
variants are timed layer by layer in turn, so a machine whose speed drifts
affects them alike. TensorFlow backend, which is the one to train with on
CPUs (see "Backends on this CPU" in docs/benchmarks.md).

A layer's time alone is not its share of a step exactly (the step fuses and
overlaps some work, and adds the optimizer), but the sum comes close and the
ranking says which layers to make cheaper.
"""

import argparse
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # Before TensorFlow loads; see docs/benchmarks.md.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convlstm_rollout import median_ms  # noqa: E402
from tfvidgen.cli.train import parse_overrides  # noqa: E402
from tfvidgen.models import FAMILIES  # noqa: E402

NETWORKS = ("encoder", "decoder", "generator", "discriminator", "backbone")


def forward_backward(layer):
    @tf.function
    def step(value):
        with tf.GradientTape() as tape:
            tape.watch(value)
            outputs = tf.nest.flatten(layer(value, training=True))
            total = tf.add_n([tf.reduce_sum(tf.square(tf.cast(output, "float32"))) for output in outputs])
        return tape.gradient(total, [value] + layer.trainable_variables)

    return lambda value: [np.asarray(tensor) for tensor in tf.nest.flatten(step(value))]


def layer_inputs(network, batch_size, rng):
    """Each single-input layer of `network` with the value it receives from a random batch, in graph order."""
    inputs = rng.standard_normal((batch_size,) + tuple(network.inputs[0].shape[1:])).astype("float32")
    if len(network.inputs[0].shape) == 5:  # Clips: values in [0, 1], as the data pipelines give.
        inputs = (inputs > 1.0).astype("float32")
    layers = [layer for layer in network.layers if not isinstance(layer, keras.layers.InputLayer)]
    layers = [layer for layer in layers if not isinstance(layer.input, (list, tuple, dict))]
    tapped = keras.Model(network.inputs, [layer.input for layer in layers])
    values = tapped([inputs], training=True)
    values = values if isinstance(values, (list, tuple)) else [values]
    return [(layer, tf.constant(value)) for layer, value in zip(layers, values)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", required=True, choices=sorted(FAMILIES))
    parser.add_argument("--preset", default="cpu_small")
    parser.add_argument("--variant", action="append", help='config overrides "KEY=JSON ..." (repeatable)')
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    variants = args.variant or [""]
    cls = FAMILIES[args.family]
    batch_size = cls.presets[args.preset]["training"]["batch_size"]
    rng = np.random.default_rng(0)
    models = [cls.from_preset(args.preset, **parse_overrides(variant.split())) for variant in variants]
    names = [variant or "preset" for variant in variants]
    print(f"{args.family} {args.preset}, batch {batch_size}: ms forward + backward per layer")
    print(f"{'network / layer':40s}" + "".join(f"{name[:28]:>30s}" for name in names))
    for network_name in NETWORKS:
        networks = [getattr(model, network_name, None) for model in models]
        if not all(isinstance(network, keras.Model) and network.inputs for network in networks):
            continue
        tables = [layer_inputs(network, batch_size, rng) for network in networks]
        by_name = [{layer.name: (layer, value) for layer, value in table} for table in tables]
        order = [layer.name for layer, _ in tables[0]]
        order += [name for table in tables[1:] for name in (layer.name for layer, _ in table) if name not in order]
        totals = [0.0] * len(models)
        for layer_name in order:
            cells = []
            for index, layers in enumerate(by_name):
                if layer_name not in layers:
                    cells.append(f"{'-':>30s}")
                    continue
                layer, value = layers[layer_name]
                step = forward_backward(layer)
                milliseconds = median_ms(lambda: step(value), args.repeats)
                totals[index] += milliseconds
                shape = "x".join(str(size) for size in layer.output.shape[1:])
                cells.append(f"{shape:>20s}{milliseconds:10.1f}")
            print(f"{network_name + ' / ' + layer_name:40s}" + "".join(cells), flush=True)
        print(f"{network_name + ' total':40s}" + "".join(f"{total:30.1f}" for total in totals))


if __name__ == "__main__":
    main()

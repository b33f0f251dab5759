"""Command-line values checked before TensorFlow or a model is loaded: a bad flag fails in a second, in one line.

Each message names the flag, what it takes and what it received. Checks that
need the model (the size of `predict`'s output) are in `tfvidgen.cli.commands`.
"""

import math
import os

# `predict`: frames of context or of prediction. At the 8 fps of model clips, 10,000 frames play for 21 minutes;
# the output's size is bounded separately (PREDICT_OUTPUT_BYTES), once the model's frame size is known.
MAX_PREDICT_FRAMES = 10_000
# `predict --num-samples`: continuations shown side by side (each as wide as the input).
MAX_PREDICTED_SAMPLES = 16
# `predict`'s output, context and horizon side by side after --interpolate and --scale, as float32 frames. The
# post-processing holds a few copies of it: a 16x16 model's 10,000 frames at --scale 4 (1.0 GiB) peaked at 1.6 GB.
PREDICT_OUTPUT_BYTES = 2**30
# The frame rates `generate` and `predict` take for a model's clips: from the writers' lowest
# (tfvidgen.postprocess.writer.MIN_FPS) to ~240, the most players show (the containers store more: writer.MAX_FPS).
MIN_CLIP_FPS, MAX_CLIP_FPS = 0.01, 240.0
# A sampler's steps (`--steps` of sample, predict, evaluate) and classifier-free guidance scale (`--guidance`), as
# the models and their exported graphs bound them.
MAX_SAMPLER_STEPS = 100_000
MAX_GUIDANCE = 100.0


def integer_flag(flag, value, minimum, maximum=None):
    """Raises `ValueError` unless `value` (an int from argparse, or None: not given) is in [minimum, maximum]."""
    if value is None or (value >= minimum and (maximum is None or value <= maximum)):
        return value
    expected = f"in [{minimum:,}, {maximum:,}]" if maximum is not None else f">= {minimum:,}"
    raise ValueError(f"{flag} must be an integer {expected}. Received: {flag} {value}")


def number_flag(flag, value, minimum, maximum):
    """Raises `ValueError` unless `value` (a float from argparse, or None: not given) is in [minimum, maximum]."""
    if value is None or (math.isfinite(value) and minimum <= value <= maximum):
        return value
    raise ValueError(f"{flag} must be a number in [{minimum:g}, {maximum:g}]. Received: {flag} {value:g}")


def check(args):
    """Checks the values of the command `args.command` that need no model; raises `ValueError` naming the flag."""
    checks = {
        "predict": _predict,
        "sample": _generate,
        "generate": _generate,
        "evaluate": _evaluate,
        "export": _export,
    }
    if args.command in checks:
        checks[args.command](args)


def labels_flag(values, num_samples):
    """`--label` values (each an int or a comma list) as one label per sample; `ValueError` naming the flag.

    One label is every sample's; otherwise there must be `num_samples`. None (not given) stays None.
    """
    if values is None:
        return None
    labels = []
    for value in values:
        for part in value.split(","):
            try:
                label = int(part)
            except ValueError:
                label = -1
            if label < 0:
                raise ValueError(
                    f"--label takes class indices (ints >= 0), one for every sample or a comma list of one per "
                    f"sample. Received: --label {value}"
                )
            labels.append(label)
    if len(labels) not in (1, num_samples):
        raise ValueError(
            f"--label takes one class for every sample or one per sample (--num {num_samples}). Received: "
            f"{len(labels)} labels ({','.join(map(str, labels))})"
        )
    return labels * num_samples if len(labels) == 1 else labels


def _generate(args):
    number_flag("--fps", args.fps, MIN_CLIP_FPS, MAX_CLIP_FPS)
    integer_flag("--steps", args.steps, 1, MAX_SAMPLER_STEPS)
    number_flag("--guidance", args.guidance, 0.0, MAX_GUIDANCE)
    args.label = labels_flag(args.label, args.num)  # One per sample from here on.


def _predict(args):
    integer_flag("--horizon", args.horizon, 1, MAX_PREDICT_FRAMES)
    integer_flag("--context-frames", args.context_frames, 1, MAX_PREDICT_FRAMES)
    integer_flag("--start", args.start, 0)
    number_flag("--fps", args.fps, MIN_CLIP_FPS, MAX_CLIP_FPS)
    integer_flag("--steps", args.steps, 1, MAX_SAMPLER_STEPS)
    integer_flag("--num-samples", args.num_samples, 1, MAX_PREDICTED_SAMPLES)


def _evaluate(args):
    integer_flag("--steps", args.steps, 1, MAX_SAMPLER_STEPS)


def _export(args):
    integer_flag("--version", args.version, 1)
    if args.version is not None and not args.overwrite:
        existing = os.path.join(args.out, str(args.version))
        if os.path.exists(existing):
            raise FileExistsError(
                f"Version {args.version} already exists at {existing!r}; pass --overwrite to replace it, or leave "
                "out --version for the next free version."
            )

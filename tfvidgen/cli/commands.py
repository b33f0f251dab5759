"""`tfvidgen sample | predict | evaluate | export | serving | features` (and `generate`, `sample`'s old name)."""

import inspect
import json
import os
import sys

import numpy as np

from tfvidgen import data as data_lib
from tfvidgen import export as export_lib
from tfvidgen import frames as frames_lib
from tfvidgen import metrics
from tfvidgen import plotting
from tfvidgen import postprocess
from tfvidgen import video_io
from tfvidgen.cli import checks
from tfvidgen.cli import postprocess as postprocess_cli
from tfvidgen.cli.loading import family_of
from tfvidgen.cli.loading import load_any
from tfvidgen.cli.loading import role_of
from tfvidgen.models import FAMILIES
from tfvidgen.serving.exported_model import ExportedModel


def _require(model, verb, signature, command):
    """Raises `ValueError` unless `model` answers `verb` (a Keras model's method; an export's `signature`).

    By what the model does, not by its family or role: a generative family that also continues videos
    (`predict_future`) serves `tfvidgen predict` too.
    """
    if isinstance(model, ExportedModel):
        able = signature in model.signatures
    else:
        able = callable(getattr(model, verb, None))
    if not able:
        families = [family for family, cls in FAMILIES.items() if callable(getattr(cls, verb, None))]
        named = " or ".join([", ".join(families[:-1]), families[-1]] if len(families) > 2 else families)
        raise ValueError(f"`tfvidgen {command}` needs a {named} model; this one is {family_of(model)}.")


def _class_name(model):
    return model.description["class_name"] if isinstance(model, ExportedModel) else type(model).__name__


def _inputs_of(model, verb, signature):
    """The input names `model`'s `verb` takes (a Keras model's method arguments; an export's `signature` inputs)."""
    if isinstance(model, ExportedModel):
        if signature not in model.signatures:
            return set()
        return set(model.signatures[signature].structured_input_signature[1])
    parameters = inspect.signature(getattr(model, verb)).parameters.values()
    if any(parameter.kind == parameter.VAR_KEYWORD for parameter in parameters):
        return _AnyName()  # `**inputs`: the verb takes any name (and checks it itself).
    return {parameter.name for parameter in parameters}


class _AnyName:
    def __contains__(self, name):
        return True


def _extra_inputs(model, verb, signature, flags):
    """`{input: value}` of the given flags, for `model.verb(...)`; `ValueError` naming a flag the model cannot take.

    Args:
        flags: `{input name: (flag, value)}`, value None where the flag was not given (the model's default).
    """
    given = {name: (flag, value) for name, (flag, value) in flags.items() if value is not None}
    accepted = _inputs_of(model, verb, signature) if given else set()
    for name, (flag, _) in given.items():
        if name not in accepted:
            kind = f"`{signature}` signature" if isinstance(model, ExportedModel) else f"`{verb}`"
            raise ValueError(f"{flag} does not apply to {_class_name(model)}: its {kind} takes no `{name}`.")
    return {name: value for name, (_, value) in given.items()}


def _context_frames(model, args):
    """`--context-frames`, else the model's default; `ValueError` when neither names one (an export whose config
    records no `context_frames`, as a sampler's that continues videos)."""
    if args.context_frames:
        return args.context_frames
    try:
        return model.context_frames
    except (AttributeError, KeyError):
        raise ValueError(
            f"--context-frames is needed: {_class_name(model)} ({args.model}) names no default number of context "
            "frames."
        ) from None


def _postprocessed(clip, args, interpolate=None, scale=None):
    """`(clip, fps)` after the --interpolate/--scale options (model clips play at 8 fps)."""
    clip, fps = postprocess.process_clip(
        clip,
        interpolate=args.interpolate if interpolate is None else interpolate,
        scale=args.scale if scale is None else scale,
        method=args.method,
        upscale_method=args.upscale_method,
        sharpen=args.sharpen,
        source_fps=video_io.DEFAULT_FPS,
        interpolator=args.learned_interpolator,
    )
    return clip, args.fps or fps


def _with_interpolator(args):
    args.learned_interpolator = postprocess_cli.learned_interpolator(args)
    return args


def _write_clips(path, clips, args):
    processed = [_postprocessed(clip, args) for clip in np.asarray(clips)]
    clips = np.stack([clip for clip, _ in processed])
    if path.lower().endswith(".png"):
        return video_io.write_png(path, video_io.frame_strip_grid(list(clips)))
    return postprocess.write_clip(path, video_io.tile_clips(clips), fps=processed[0][1])


def sample(args):
    model = load_any(args.model)
    _require(model, "sample", "sample", args.command)
    inputs = _extra_inputs(
        model,
        "sample",
        "sample",
        # --label is one int per sample by now (checks.labels_flag).
        {
            "steps": ("--steps", args.steps),
            "labels": ("--label", args.label),
            "guidance": ("--guidance", args.guidance),
        },
    )
    clips = model.sample(args.num, seed=args.seed, **inputs)
    path = _write_clips(args.out, clips, _with_interpolator(args))
    print(f"wrote {args.num} clips of {tuple(clips.shape[1:])} to {path}")


def generate(args):
    """Deprecated: `tfvidgen sample` (the same command, kept one release)."""
    print("tfvidgen: warning: `tfvidgen generate` is deprecated; use `tfvidgen sample`", file=sys.stderr)
    sample(args)


def _check_output_size(args, frame_shape, context_frames, sides=2):
    """Raises `ValueError` when predict's output (all sides, after --interpolate and --scale) passes the budget."""
    height, width, channels = frame_shape
    frames = (context_frames + args.horizon - 1) * args.interpolate + 1
    size = (round(height * args.scale), round((sides * width + 2 * (sides - 1)) * args.scale))  # 2 px apart.
    needed = frames * size[0] * size[1] * channels * 4
    if needed > checks.PREDICT_OUTPUT_BYTES:
        raise ValueError(
            f"--horizon {args.horizon} with {context_frames} context frames, --interpolate {args.interpolate} and "
            f"--scale {args.scale:g} makes {frames:,} output frames of {size[1]}x{size[0]} ({needed / 2**30:.1f} "
            f"GiB as float32); the limit is {checks.PREDICT_OUTPUT_BYTES / 2**30:g} GiB: lower one of them."
        )


def predict(args):
    model = load_any(args.model)
    _require(model, "predict_future", "rollout", "predict")
    inputs = _extra_inputs(
        model,
        "predict_future",
        "rollout",
        {
            "num_samples": ("--num-samples", args.num_samples),
            "steps": ("--steps", args.steps),
            "seed": ("--seed", args.seed),
        },
    )
    frame_shape = tuple(model.frame_shape)
    context_frames = _context_frames(model, args)
    _check_output_size(args, frame_shape, context_frames, sides=1 + (args.num_samples or 1))
    # Only the frames shown, read at the model's size: memory does not grow with the video.
    uint8_frames, available = frames_lib.read_frames(args.video, args.start, context_frames + args.horizon, frame_shape)
    if len(uint8_frames) < context_frames:
        raise ValueError(
            f"{args.video!r} has {available} frames; --start {args.start} with {context_frames} context frames "
            f"needs at least {args.start + context_frames}."
        )
    frames = uint8_frames.astype(np.float32) / 255.0
    context = frames[:context_frames]
    future = np.asarray(model.predict_future(context[None], args.horizon, **inputs))[0]
    futures = list(future) if args.num_samples else [future]  # (num_samples, horizon, ...) with --num-samples.
    truth = frames  # Context and the video's own continuation.
    if len(truth) < context_frames + args.horizon:  # The video ends before the horizon: black frames.
        truth = np.concatenate(
            [truth, np.zeros((context_frames + args.horizon - len(truth),) + frame_shape, np.float32)]
        )
    out = args.out or os.path.splitext(args.video)[0] + "_prediction.mp4"
    # New frames for each side at the model's frame size (a learned interpolator takes no other), then the
    # two sides joined and upscaled together.
    args = _with_interpolator(args)
    truth, _ = _postprocessed(truth, args, scale=1)
    continued = [_postprocessed(np.concatenate([context, future]), args, scale=1)[0] for future in futures]
    clip, fps = _postprocessed(video_io.side_by_side(truth, *continued), args, interpolate=1)
    fps = args.fps or video_io.DEFAULT_FPS * args.interpolate
    postprocess.write_clip(out, clip, fps=fps)
    right = "right" if len(futures) == 1 else f"right, {len(futures)} samples"
    print(f"wrote {out}: input (left) and {context_frames} context + {args.horizon} predicted frames ({right})")


def evaluate(args):
    model = load_any(args.model)
    results, report, pairs = EVALUATIONS[role_of(model)](model, args)
    print(report)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "evaluation.json"), "w") as file:
            json.dump(results, file, indent=2)
        if pairs is not None:
            plotting.plot_per_frame(os.path.join(args.out, "per_frame.png"), results)
            _write_predictions(model, pairs, args.out)
        print(f"wrote {args.out}/evaluation.json")


def _evaluate_generative(model, args):
    """Samples against held-out clips (Fréchet distance, diversity, flicker) and the family's own scores."""
    from tfvidgen.metrics import generative

    clip_shape = tuple(model.clip_shape)
    clips = data_lib.load_clips(
        args.data,
        clip_shape[0],
        clip_shape[1:3],
        clip_shape[3],
        split=args.split,
        num_clips=args.num_clips,
        seed=args.seed,
    )
    inputs = _extra_inputs(model, "sample", "sample", {"steps": ("--steps", args.steps)})
    results = generative.evaluate_generator(
        model, family_of(model), clips, args.num_clips, args.batch_size, args.features, args.seed, inputs
    )
    return results, generative.format_report(results), None


def _evaluate_predictor(model, args):
    height, width, channels = model.frame_shape
    context_frames = _context_frames(model, args)
    clips = data_lib.load_clips(
        args.data,
        context_frames + args.horizon,
        (height, width),
        channels,
        split=args.split,
        num_clips=args.num_clips,
        seed=args.seed,
    )
    pairs = data_lib.prediction_pairs(clips, context_frames, args.horizon).batch(args.batch_size)
    inputs = _extra_inputs(model, "predict_future", "rollout", {"steps": ("--steps", args.steps)})
    predict = (lambda *call: model.predict_future(*call, **inputs)) if inputs else model.predict_future
    results = metrics.evaluate_predictions(predict, pairs)
    return results, metrics.format_table(results), pairs


def _write_predictions(model, pairs, out, count=4):
    """`predictions.gif` (the first clips, truth above, context + prediction below) and `predictions.png`."""
    context, target = (np.asarray(part)[:count] for part in next(iter(pairs)))
    future = np.asarray(model.predict_future(context, target.shape[1]))
    truth, predicted = np.concatenate([context, target], axis=1), np.concatenate([context, future], axis=1)
    grid = video_io.tile_clips(np.concatenate([truth, predicted]), columns=len(truth))
    video_io.write_gif(os.path.join(out, "predictions.gif"), grid, fps=4, scale=2)
    video_io.write_png(os.path.join(out, "predictions.png"), video_io.prediction_grid(context, target, future))


def _evaluate_interpolator(model, args):
    """The model's middle frames against linear blending and optical flow, one triplet per held-out clip."""
    height, width, channels = model.frame_shape
    clips = data_lib.load_clips(
        args.data,
        2 * args.gap + 1,
        (height, width),
        channels,
        split=args.split,
        num_clips=args.num_clips,
        seed=args.seed,
    )
    _extra_inputs(model, "interpolate", "interpolate", {"steps": ("--steps", args.steps)})
    triplets = data_lib.interpolation_triplets(clips, args.gap).batch(args.batch_size)
    results = metrics.evaluate_interpolation(model.interpolate, triplets)
    return results, metrics.format_table(results), None


# `tfvidgen evaluate` by role: `(results, printed report, prediction pairs to draw or None)`.
EVALUATIONS = {
    "prediction": _evaluate_predictor,
    "generation": _evaluate_generative,
    "interpolation": _evaluate_interpolator,
}


def export(args):
    model = load_any(args.model)
    if not hasattr(model, "serving_signatures"):
        raise ValueError(f"{args.model!r} is already a SavedModel; export takes a .keras file or a run directory.")
    path = export_lib.export_for_serving(
        model, args.out, version=args.version, overwrite=args.overwrite, uint8=args.uint8
    )
    print(f"exported {type(model).__name__} to {path}")
    if not args.no_check:
        _print_check(export_lib.check_servable(path, model=model))


def _print_check(results):
    for signature, result in sorted(results.items()):
        shapes = ", ".join(f"{key} {tuple(shape)}" for key, shape in sorted(result["shapes"].items()))
        print(f"  {signature:22s} OK  max |diff| {result['max_abs_diff']:.2g}  {shapes}")


def serving(args):
    if args.serving_command == "check":
        path = export_lib.latest_version(args.path)
        results = export_lib.check_servable(path)
        print(f"{path}: every signature loads and runs through TensorFlow's C API (TF_LoadSessionFromSavedModel)")
        _print_check(results)
    elif args.serving_command == "dev-server":
        import time

        from tfvidgen.serving import DevServer

        server = DevServer(
            _named_paths(args.model),
            host=args.host,
            port=args.port,
            max_request_bytes=int(args.max_request_mb * 2**20),
            read_timeout=args.read_timeout,
        ).start()
        print(f"serving {sorted(server.httpd.models)} at {server.url}/v1/models/NAME (Ctrl-C stops)")
        try:
            while True:
                time.sleep(3600)
        finally:
            server.stop()
    else:
        from tfvidgen.serving import model_config

        text = model_config.model_config_list(_named_paths(args.model))
        if args.out:
            with open(args.out, "w") as file:
                file.write(text)
            print(f"wrote {args.out}")
        else:
            print(text, end="")


def _named_paths(pairs):
    models = {}
    for pair in pairs:
        name, separator, base_path = pair.partition("=")
        if not separator or not name or not base_path:
            raise ValueError(f"`--model` takes NAME=BASE_PATH. Received: {pair!r}")
        models[name] = base_path
    return models


def features(args):
    from tfvidgen.metrics import feature_extractor

    results = feature_extractor.train_feature_classifier(
        args.out, args.steps, args.batch_size, args.seed, args.validation_clips
    )
    print(json.dumps(results, indent=2))

"""`tfvidgen postprocess`: interpolate, upscale, trim and retime a video, GIF or run's samples.

Needs NumPy and OpenCV only: it runs where TensorFlow is not installed.
"""

import re

from tfvidgen import postprocess

# `process_video`'s arguments that are flags of `tfvidgen postprocess` (the same names, with dashes).
_OPTIONS = ("interpolate", "scale", "trim", "fps", "target_fps", "speed", "method", "upscale_method", "sharpen")
_OPTION_PATTERN = re.compile(
    r"`("
    + "|".join(sorted(_OPTIONS, key=len, reverse=True))
    + r")`|(?<![\w`-])("
    + "|".join(sorted(_OPTIONS, key=len, reverse=True))
    + r")="
)


def as_flags(message):
    """A `tfvidgen.postprocess` message with its argument names as the command's flags.

    "`speed` must be at least 0.0156. Received: speed=1e-09" ->
    "--speed must be at least 0.0156. Received: --speed=1e-09".
    """

    def flag(match):
        name = match.group(1) or match.group(2)
        return "--" + name.replace("_", "-") + ("" if match.group(1) else "=")

    return _OPTION_PATTERN.sub(flag, message)


def add_arguments(parser):
    """The time and size options `postprocess`, `generate` and `predict` share."""
    parser.add_argument(
        "--interpolate",
        type=int,
        default=1,
        metavar="N",
        help="N times the frames: N-1 new frames between each pair, by optical flow (default 1: none)",
    )
    parser.add_argument(
        "--method",
        default="flow",
        choices=postprocess.INTERPOLATION_METHODS,
        help="how new frames are made: flow (optical flow, default), blend, repeat",
    )
    parser.add_argument("--upscale-method", default="lanczos", choices=tuple(postprocess.UPSCALE_METHODS))
    parser.add_argument(
        "--sharpen", type=float, default=0.0, help="edge-aware sharpening after upscaling, 0 (default) to 2"
    )
    parser.add_argument(
        "--fps",
        type=float,
        help="output frame rate, > 0 (.mp4, .mov, .gif up to 65535; .avi, .mkv up to 1000; "
        "default: keeps the duration)",
    )
    parser.add_argument(
        "--interpolator",
        metavar="MODEL",
        help="make the new frames with a trained FrameInterpolator (.keras, run directory or SavedModel) "
        "instead of optical flow; factors 2, 4, 8 (needs TensorFlow)",
    )


def learned_interpolator(args):
    """The `--interpolator` model wrapped for `tfvidgen.postprocess`, or None."""
    if not getattr(args, "interpolator", None):
        return None
    from tfvidgen.cli.loading import family_of
    from tfvidgen.cli.loading import load_any
    from tfvidgen.cli.loading import role_of

    model = load_any(args.interpolator)
    if role_of(model) != "interpolation":
        raise ValueError(
            f"--interpolator needs a FrameInterpolator; {args.interpolator!r} is a {family_of(model)} model."
        )
    if args.method != "flow":
        raise ValueError(f"--interpolator makes the new frames itself; drop --method {args.method}.")
    return postprocess.ModelInterpolator(model)


def run(args):
    try:
        result = postprocess.process_video(
            args.input,
            args.out,
            interpolate=args.interpolate,
            scale=args.scale,
            trim=postprocess.parse_span(args.trim) if args.trim else None,
            fps=args.fps,
            target_fps=args.target_fps,
            speed=args.speed,
            method=args.method,
            upscale_method=args.upscale_method,
            sharpen=args.sharpen,
            sample=args.sample,
            interpolator=learned_interpolator(args),
        )
    except ValueError as error:  # Named as the user typed it: --target-fps, not `target_fps`.
        raise ValueError(as_flags(str(error))) from None
    height, width = result["output_size"]
    print(
        f"wrote {result['output']}: {result['output_frames']} frames of {width}x{height} at "
        f"{result['output_fps']:g} fps ({result['codec']}) from {result['input_frames']} frames of "
        f"{result['input_size'][1]}x{result['input_size'][0]} at {result['input_fps']:g} fps "
        f"in {result['seconds']:.1f} s"
    )
    return result

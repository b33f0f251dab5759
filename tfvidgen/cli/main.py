"""The `tfvidgen` command line: train, sample, predict, evaluate, export, serving, postprocess.

Subcommand modules are imported when used, so `tfvidgen --help` answers at once
(TensorFlow takes seconds to import). Errors are one line on stderr with exit
code 1; set TFVIDGEN_DEBUG=1 for the traceback.
"""

import argparse
import contextlib
import os
import re
import signal
import sys
import threading

from tfvidgen.cli import checks
from tfvidgen.cli import postprocess as postprocess_cli
from tfvidgen.families import FAMILY_NAMES as FAMILIES


def _train_parser(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train a model (no options: ConvLSTM cpu_small on built-in Moving MNIST)",
        description="Train a model family on built-in Moving MNIST, tfds, video files or TFRecords. "
        "With no options: the ConvLSTM predictor's cpu_small preset on generated Moving MNIST, offline.",
    )
    parser.add_argument(
        "family", nargs="?", default="convlstm", choices=FAMILIES, help="model family (default convlstm)"
    )
    parser.add_argument("--preset", default="cpu_small", help="model preset: tiny, cpu_small or the GPU preset")
    parser.add_argument(
        "--data",
        default="moving_mnist",
        help="moving_mnist (generated, offline), moving_mnist:mnist, tfds:NAME, tfrecord:PATTERN "
        "(with {split}), or a video file, directory or glob",
    )
    parser.add_argument("--epochs", type=int, help="epochs (default: the preset's)")
    parser.add_argument("--steps-per-epoch", type=int, help="steps per epoch (default: the preset's)")
    parser.add_argument("--batch-size", type=int, help="global batch size (default: the preset's)")
    parser.add_argument("--learning-rate", type=float, help="learning rate (default: the preset's)")
    parser.add_argument(
        "--learning-rate-schedule",
        choices=("constant", "cosine"),
        help="constant, or cosine decay to 0 over --epochs x --steps-per-epoch (default: the preset's, else "
        "constant); size --epochs to the run, a --time-limit-minutes stop comes before the end of the decay",
    )
    parser.add_argument(
        "--loss",
        choices=("mse", "l1_l2", "bce"),
        help="predictors: the training loss (default: the family's, mse for convlstm, l1_l2 for simvp)",
    )
    parser.add_argument("--out", help="run directory (default runs/FAMILY-PRESET); rerun to resume")
    parser.add_argument("--overwrite", action="store_true", help="start afresh, deleting a run in --out")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a model config value (JSON)")
    parser.add_argument(
        "--strategy",
        default="auto",
        choices=("auto", "default", "one_device", "mirrored", "multi_worker", "tpu"),
        help="tf.distribute strategy (auto: TPU, TF_CONFIG cluster, several GPUs, else one device)",
    )
    parser.add_argument("--mixed-precision", choices=("float16", "bfloat16"), help="mixed-precision policy")
    parser.add_argument(
        "--backend",
        choices=("tensorflow", "jax"),
        help="Keras backend (default: KERAS_BACKEND, else tensorflow). jax trains without TensorFlow, on every "
        "local device (keras.distribution.DataParallel); TensorBoard logs and the SavedModel export need TensorFlow",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--validation-clips", type=int, default=32, help="held-out clips evaluated each epoch (0: no validation)"
    )
    parser.add_argument(
        "--split-by",
        default="auto",
        choices=("auto", "file", "time"),
        help="video files: split whole files (many files) or each video along time (one or a few; auto picks)",
    )
    parser.add_argument("--sample-every", type=int, default=1, help="epochs between sample GIFs")
    parser.add_argument("--backup-every", type=int, default=10, help="steps between resume checkpoints")
    parser.add_argument("--time-limit-minutes", type=float, help="stop training after this many minutes")
    parser.add_argument(
        "--snapshot-minutes",
        type=float,
        help="save snapshots/minute_MMM.keras every this many minutes (points of a learning curve)",
    )
    parser.add_argument(
        "--prior-clips",
        type=int,
        default=2048,
        help="vae: after training, fit the sampling prior to the posterior means of this many training clips "
        "(VideoVAE.fit_latent_prior; 0 keeps N(0, I))",
    )
    parser.add_argument("--no-export", action="store_true", help="skip the SavedModel export")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2), help="Keras fit verbosity")


def _inference_parsers(subparsers):
    # `sample`, the generative models' verb in Python, SavedModels and the REST client; `generate`, its name
    # before, kept one release (it warns).
    for name, help_text in (
        ("sample", "sample clips from a generative model (GAN, VAE, diffusion)"),
        ("generate", "deprecated: `tfvidgen sample`"),
    ):
        sample = subparsers.add_parser(
            name,
            help=help_text,
            description="Sample clips from a trained generative model (VideoDCGAN, VideoVAE, VideoDiffusion; a "
            ".keras file, run directory or SavedModel). --steps, --label and --guidance reach a model that takes "
            "them (a sampler, a class-conditional model).",
        )
        sample.add_argument("--model", required=True, help=".keras file, run directory or SavedModel")
        sample.add_argument("--num", type=int, default=16, help="number of clips")
        sample.add_argument("--seed", type=int, default=0)
        sample.add_argument(
            "--out", default="samples.gif", help="output: .gif or .mp4 (a grid of videos) or .png (frames)"
        )
        sample.add_argument("--scale", type=float, default=2, help="upscaling of frames (see --upscale-method)")
        sample.add_argument(
            "--steps",
            type=int,
            help=f"samplers (diffusion): sampler steps, 1 to {checks.MAX_SAMPLER_STEPS:,} (default: the model's)",
        )
        sample.add_argument(
            "--label",
            action="append",
            metavar="CLASS[,CLASS...]",
            help="class-conditional models: the class of every sample, or one per sample (a comma list, or the "
            "flag repeated)",
        )
        sample.add_argument(
            "--guidance",
            type=float,
            help=f"class-conditional models: classifier-free guidance scale in [0, {checks.MAX_GUIDANCE:g}] "
            "(1: the conditional model alone; default: the model's)",
        )
        postprocess_cli.add_arguments(sample)

    predict = subparsers.add_parser(
        "predict",
        help="continue a video with a frame predictor (ConvLSTM, SimVP)",
        description="Continue a real video file: the input on the left, the prediction on the right.",
    )
    predict.add_argument("--model", required=True, help=".keras file, run directory or SavedModel")
    predict.add_argument("--video", required=True, help="input video file")
    predict.add_argument(
        "--horizon",
        type=int,
        default=10,
        help=f"frames to predict, 1 to {checks.MAX_PREDICT_FRAMES:,} (and an output of at most "
        f"{checks.PREDICT_OUTPUT_BYTES // 2**30} GiB as float32 frames)",
    )
    predict.add_argument(
        "--context-frames",
        type=int,
        help=f"frames of context, 1 to {checks.MAX_PREDICT_FRAMES:,} (default: the model's)",
    )
    predict.add_argument("--start", type=int, default=0, help="first context frame in the video (0: the first)")
    predict.add_argument("--seed", type=int, help="stochastic predictors (diffusion): the seed of the futures")
    predict.add_argument(
        "--num-samples",
        type=int,
        help=f"stochastic predictors (diffusion): continuations shown side by side, 1 to "
        f"{checks.MAX_PREDICTED_SAMPLES} (default: the model's one)",
    )
    predict.add_argument(
        "--steps",
        type=int,
        help=f"samplers (diffusion): sampler steps, 1 to {checks.MAX_SAMPLER_STEPS:,} (default: the model's)",
    )
    predict.add_argument("--out", help="output video (.mp4 or .gif; default VIDEO_prediction.mp4)")
    predict.add_argument("--scale", type=float, default=2, help="upscaling of frames (see --upscale-method)")
    postprocess_cli.add_arguments(predict)

    evaluate = subparsers.add_parser(
        "evaluate",
        help="score a model against baselines",
        description="Evaluate a model on held-out data with the metrics of its family and the baselines.",
    )
    evaluate.add_argument("--model", required=True, help=".keras file, run directory or SavedModel")
    evaluate.add_argument("--data", default="moving_mnist", help="data spec, as for train (e.g. tfds:moving_mnist)")
    evaluate.add_argument("--split", default="test", choices=("train", "validation", "test"))
    evaluate.add_argument("--num-clips", type=int, default=256)
    evaluate.add_argument("--batch-size", type=int, default=16)
    evaluate.add_argument("--context-frames", type=int, help="predictors: context length (default: the model's)")
    evaluate.add_argument("--horizon", type=int, default=10, help="predictors: frames to roll out")
    evaluate.add_argument("--gap", type=int, default=1, help="interpolator: frames from a neighbour to the middle")
    evaluate.add_argument(
        "--features", help="generative models: feature extractor for the Frechet distance (default: the shipped one)"
    )
    evaluate.add_argument(
        "--steps",
        type=int,
        help=f"samplers (diffusion): sampler steps, 1 to {checks.MAX_SAMPLER_STEPS:,} (default: the model's)",
    )
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--out", help="directory for evaluation.json and plots")

    export = subparsers.add_parser(
        "export",
        help="export a SavedModel for TF Serving",
        description="Export a .keras model or a run directory to BASE/<version>/ for TF Serving, atomically.",
    )
    export.add_argument("--model", required=True, help=".keras file or run directory")
    export.add_argument("--out", required=True, help="base directory (TF Serving's model base path)")
    export.add_argument("--version", type=int, help="version number (default: the next free one)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing version")
    export.add_argument("--uint8", action="store_true", help="also export uint8-frame signatures")
    export.add_argument("--no-check", action="store_true", help="skip the C API servability check")

    features = subparsers.add_parser(
        "features",
        help="train the Moving MNIST feature classifier used for Fréchet distances",
        description="Train the offline feature space of `tfvidgen.metrics.load_feature_extractor`: a 3D-conv "
        "classifier of digits and motion on generated Moving MNIST; writes DIR/classifier.keras and metrics.json.",
    )
    features.add_argument("--out", required=True, help="output directory (use it with TFVIDGEN_FEATURES=DIR)")
    features.add_argument("--steps", type=int, default=2000)
    features.add_argument("--batch-size", type=int, default=32)
    features.add_argument("--validation-clips", type=int, default=512, help="held-out clips scored at the end")
    features.add_argument("--seed", type=int, default=0)

    serving = subparsers.add_parser("serving", help="servability check and TF Serving config")
    serving_commands = serving.add_subparsers(dest="serving_command", required=True)
    check = serving_commands.add_parser(
        "check",
        help="load and run every signature through TensorFlow's C API",
        description="Prove an export serves: load it with TF_LoadSessionFromSavedModel in a process without "
        "TensorFlow's Python API, run every signature on its warm-up request, compare with the in-process result.",
    )
    check.add_argument("path", help="SavedModel version or base directory")
    dev = serving_commands.add_parser(
        "dev-server",
        help="serve exports over TF Serving's REST API (development only)",
        description="Serve exports over TF Serving's REST API from this Python process, for development and "
        "notebooks. Not TF Serving: see `tfvidgen serving check` for the proof that TF Serving loads an export.",
    )
    dev.add_argument("--model", action="append", required=True, metavar="NAME=BASE_PATH", help="a served model")
    dev.add_argument("--port", type=int, default=8501)
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--max-request-mb", type=float, default=32, help="larger request bodies get a 413")
    dev.add_argument("--read-timeout", type=float, default=30, help="seconds a client may take to send a request")
    config = serving_commands.add_parser(
        "config",
        help="write a model_config_list for several models",
        description="Write TF Serving's --model_config_file for several exported models.",
    )
    config.add_argument("--model", action="append", required=True, metavar="NAME=BASE_PATH", help="a served model")
    config.add_argument("--out", help="output file (default: print)")


def _postprocess_parser(subparsers):
    parser = subparsers.add_parser(
        "postprocess",
        help="interpolate, upscale, trim or retime a video (no TensorFlow needed)",
        description="Make a video smoother (optical-flow frame interpolation), larger (Lanczos upscaling), "
        "shorter (trim) or retimed, streaming: any length fits in memory. The input is a video file, a GIF, "
        "or a run directory (its latest sample GIF). The output is written atomically.",
    )
    parser.add_argument("input", help="video file, GIF, or run directory")
    parser.add_argument("--out", required=True, help="output .mp4, .gif, .avi, .mov or .mkv")
    parser.add_argument("--scale", type=float, default=1, help="spatial upscaling factor, e.g. 4 (default 1)")
    parser.add_argument("--trim", metavar="START:END", help="seconds of the input to keep, e.g. 0.5:3.0 or 2:")
    parser.add_argument("--target-fps", type=float, help="convert to this frame rate, keeping the duration")
    parser.add_argument("--speed", type=float, default=1.0, help="play faster (>1) or in slow motion (<1)")
    parser.add_argument("--sample", default="samples", help="which preview of a run directory (default samples)")
    postprocess_cli.add_arguments(parser)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tfvidgen",
        description="Video prediction and generation models for TensorFlow/Keras: train, generate, predict, "
        "evaluate, export and check servability.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    _train_parser(subparsers)
    _inference_parsers(subparsers)
    _postprocess_parser(subparsers)
    return parser


@contextlib.contextmanager
def _interrupt_deferred():
    """Holds Ctrl-C back until the block ends, then raises KeyboardInterrupt.

    `import tensorflow` runs C extension initialisers (TensorFlow's, and
    jaxlib's through tf.lite when JAX is installed) and JAX's garbage-collector
    callback. A KeyboardInterrupt raised inside them was swallowed (the command
    went on and exited 0: 4 of 12 SIGINTs sent during the import) or aborted
    the process (exit -6); a C initialiser that meets it can also report a
    SystemError ("listobject.c: bad argument to internal function").
    """
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler  # Ignored (nohup), or the caller's own.
    ):
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _quietly_import_tensorflow():
    """Imports TensorFlow with its C++ start-up logs held back (replayed if the import fails).

    TensorFlow prints ~7 lines at import and device discovery (oneDNN, CPU
    features, CUDA probing on machines without a GPU) even with
    TF_CPP_MIN_LOG_LEVEL=3; a real error would drown in them. TFVIDGEN_DEBUG=1
    shows them.
    """
    if os.environ.get("TFVIDGEN_DEBUG") or "tensorflow" in sys.modules:
        return
    from tfvidgen import quiet_import

    with _interrupt_deferred(), quiet_import.held_back_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices()  # CUDA probing logs at device discovery, not at import.


def _error_line(error):
    """The one line to show for `error`: its first, or for a check that failed inside an exported graph
    (TensorFlow's "Graph execution error:" and a node trace), the check's own message and the value it received."""
    text = str(error).strip()
    if not text:
        return type(error).__name__
    if text.startswith("Graph execution error:"):
        failed = re.search(r"assertion failed: \[(.*?)\](?:.*?\[x \(.*?\) = \] \[(.*?)\])?", text)
        if failed:
            return failed.group(1) + (f". Received: {failed.group(2)}" if failed.group(2) else "")
    return text.splitlines()[0]


def main(argv=None):
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # FFmpeg's own messages ("moov atom not found") for files tfvidgen reports itself, in one line each.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    # TensorFlow leaves oneDNN off on CPUs without AVX-512 (AMD EPYC, for one);
    # without it GAN/VAE training ran 19-21x and ConvLSTM training 2.2x slower
    # (docs/benchmarks.md). Must be set before TensorFlow is imported.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    if os.environ.get("TFVIDGEN_DEBUG"):  # The whole traceback, Keras frames included.
        import keras

        keras.config.disable_traceback_filtering()
    backend = getattr(args, "backend", None)
    if backend:
        if "keras" in sys.modules and sys.modules["keras"].backend.backend() != backend:
            print(
                f"tfvidgen: error: Keras is already loaded with another backend; --backend {backend} "
                "must be chosen before Keras is imported",
                file=sys.stderr,
            )
            return 1
        os.environ["KERAS_BACKEND"] = backend  # Before Keras is imported.
    try:
        checks.check(args)  # Before TensorFlow and the model load: a bad value fails at once.
        if (args.command != "postprocess" or args.interpolator) and os.environ.get(
            "KERAS_BACKEND", "tensorflow"
        ) == "tensorflow":
            _quietly_import_tensorflow()
        if args.command == "train":
            from tfvidgen.cli import train

            train.run(args)
        elif args.command == "postprocess":
            postprocess_cli.run(args)
        else:
            from tfvidgen.cli import commands

            getattr(commands, args.command)(args)
    except KeyboardInterrupt:
        print("tfvidgen: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # One clear line, not a traceback.
        if os.environ.get("TFVIDGEN_DEBUG"):
            raise
        print(f"tfvidgen: error: {_error_line(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

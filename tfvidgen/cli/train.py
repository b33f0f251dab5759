"""`tfvidgen train`: one command from data to a trained, exported model.

A run directory holds everything about a run:

    config.json        family, preset, model config, training settings, data split, versions
    backup/            the resume point while training (weights, optimizer state, step)
    checkpoints/       last_good.keras, the last epoch with finite metrics; best.keras,
                       the epoch with the best validation score (ConvLSTM: rollout
                       loss; VAE: negative ELBO; none for the GAN, whose losses
                       do not rank models)
    logs/              TensorBoard scalars and sample images
    samples/           GIF and PNG previews per epoch
    snapshots/         minute_MMM.keras every --snapshot-minutes (a learning curve's points)
    metrics.csv        one row per epoch
    model.keras        the final model (weights, config, optimizer state)
    export/<family>/1/ the SavedModel for TF Serving (TensorFlow only: a run on JAX
                       skips it; `tfvidgen export` on its model.keras, where TensorFlow is)
    summary.json       written last: the run is finished (timings, steps, export path)
    train.lock         held by the run in progress (`run_directory`): a second run into the
                       same directory stops at once, naming the holder's PID

On JAX (`--backend jax`) the data comes from NumPy (`tfvidgen.data.ClipBatches`:
Moving MNIST or video files) and training runs on every local device through
`keras.distribution.DataParallel`; no TensorFlow is needed.

Running the same command again after an interruption resumes from `backup/`;
after one that came once `model.keras` was written (during the export), it
finishes the run (export, `summary.json`) without training again.
Every file is written to a temporary name and renamed into place; `backup/` is
deleted only once `model.keras` is; Ctrl-C or SIGTERM stop after the step in
progress with a backup of that step (exit code 130). A data source that gives no
clip fails before anything is written.

On JAX a run whose data needs no tf.data imports no TensorFlow (`_seed`).
"""

import contextlib
import json
import os
import platform
import shutil
import sys
import time

import keras

from tfvidgen import atomic_files
from tfvidgen import callbacks as tfvidgen_callbacks
from tfvidgen import distribute
from tfvidgen.cli import run_directory
from tfvidgen.cli.training_data import build_datasets
from tfvidgen.cli.training_data import describe_split
from tfvidgen.cli.training_data import uses_tf_data
from tfvidgen.models import FAMILIES


def parse_overrides(pairs):
    """`["filters=[32,32]", "two_stream=true"]` -> `{"filters": [32, 32], "two_stream": True}`."""
    overrides = {}
    for pair in pairs or []:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise ValueError(f"`--set` takes key=value pairs. Received: {pair!r}")
        try:
            overrides[key] = json.loads(value)
        except ValueError:
            overrides[key] = value
    return overrides


def _is_chief():
    """True unless this process is a non-chief worker of a TF_CONFIG cluster."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = config.get("task") or {}
    if not task:
        return True
    if task.get("type") == "chief":
        return True
    return task.get("type") == "worker" and task.get("index", 0) == 0 and "chief" not in config.get("cluster", {})


LEARNING_RATE_SCHEDULES = ("constant", "cosine")


def learning_rate_schedule(learning_rate, schedule="constant", total_steps=None):
    """The optimizer's learning rate: `learning_rate` throughout, or cosine-decayed to 0 over `total_steps`.

    A constant-rate Adam run ends on a noisy iterate; decaying the rate to 0 by the run's last step lets it settle
    (docs/benchmarks.md measures what that buys the VAE). `total_steps` is the planned run, epochs x steps per
    epoch: a `--time-limit-minutes` run stopped earlier stops before the rate reaches 0.
    """
    if schedule == "constant":
        return learning_rate
    if schedule != "cosine":
        raise ValueError(f"`schedule` must be one of {LEARNING_RATE_SCHEDULES}. Received: schedule={schedule!r}")
    if not total_steps or total_steps < 1:
        raise ValueError(f"A cosine schedule needs `total_steps` >= 1. Received: total_steps={total_steps!r}")
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=int(total_steps), alpha=0.0)


def compile_model(model, learning_rate, settings=None, global_clipnorm=None, schedule="constant", total_steps=None):
    """Compiles for `tfvidgen train`: Adam at the run's rate, with the family's own `settings`.

    `settings` are `cls.cli_training_settings(...)` (a predictor's loss, the GAN's generator rate), passed to the
    model's `compile_for_training`. `global_clipnorm` (a preset's `training` entry) rescales a step's gradients
    whose global norm exceeds it; `schedule` and `total_steps` shape each rate over the run
    (`learning_rate_schedule`).
    """

    def adam(rate, **options):
        rate = learning_rate_schedule(rate, schedule, total_steps)
        return keras.optimizers.Adam(rate, global_clipnorm=global_clipnorm, **options)

    model.compile_for_training(adam, learning_rate, **(settings or {}))


class _TensorFlowHidden:
    """A `sys.meta_path` finder under which `import tensorflow` fails as if it were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden from a JAX run)", name=name)
        return None


def _seed(seed, backend, tensorflow_needed):
    """`keras.utils.set_random_seed(seed)`; on JAX, without importing TensorFlow where the run does not need it.

    Keras' `set_random_seed` also seeds TensorFlow wherever it is installed, and
    Keras asks once per process whether TensorFlow can be imported, keeping the
    answer (its `.keras` serialization asks too, at the first save). Asked here
    with TensorFlow hidden, Keras seeds Python, NumPy and its own generators,
    and no later save imports TensorFlow (7 lines of TF/CUDA logs and seconds
    of start-up a JAX run has no use for). A run on tf.data (tfds, TFRecords)
    imports TensorFlow anyway: it is seeded as on TensorFlow.
    """
    if backend == "tensorflow" or tensorflow_needed or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    hidden = _TensorFlowHidden()
    sys.meta_path.insert(0, hidden)
    try:
        keras.utils.set_random_seed(seed)
    finally:
        sys.meta_path.remove(hidden)


def run(args):
    """Trains per the parsed `tfvidgen train` arguments; returns the run directory."""
    family = args.family
    cls = FAMILIES[family]
    if args.preset not in cls.presets:
        raise ValueError(f"Unknown {family} preset {args.preset!r}; expected one of {sorted(cls.presets)}.")
    preset = cls.presets[args.preset]
    # Each --set key goes to the task or the network that takes it; one no constructor takes fails here, named.
    cls.split_flat_config(parse_overrides(args.set))
    training = dict(preset["training"])
    out = args.out or os.path.join("runs", f"{family}-{args.preset}")
    if not _is_chief():  # Non-chief workers keep their files apart from the chief's.
        out = os.path.join(out, f"worker-{json.loads(os.environ['TF_CONFIG'])['task']['index']}")
    # Held until the run ends (a directory this creates is removed again if the run writes nothing).
    with run_directory.locked(out):
        return _run(args, family, cls, training, out)


def _run(args, family, cls, training, out):
    backend = keras.backend.backend()
    state = run_directory.check(out, args.overwrite)  # Before the data is read: a finished run fails fast.
    _seed(args.seed, backend, uses_tf_data(args))
    if state == "finish":
        return _finish_interrupted_run(args, family, out)
    distribute.set_mixed_precision(args.mixed_precision)
    strategy = distribute.get_strategy(args.strategy if backend == "tensorflow" else "auto")
    scope, described = strategy.scope(), distribute.describe(strategy)
    overrides = parse_overrides(args.set)
    learning_rate = args.learning_rate or training.get("learning_rate") or cls.default_learning_rate
    epochs = args.epochs or training["epochs"]
    steps_per_epoch = args.steps_per_epoch or training["steps_per_epoch"]
    schedule = args.learning_rate_schedule or training.get("learning_rate_schedule", "constant")
    if args.loss and not cls.accepts_loss:
        with_loss = ", ".join(name for name, family_class in FAMILIES.items() if family_class.accepts_loss)
        raise ValueError(
            f"--loss sets a predictor's loss ({with_loss}); the {family} family's losses are "
            "its own (see its preset and --set)."
        )
    # The family's own compile settings: a predictor's loss (--loss, else its default_loss), the GAN's
    # generator rate (a preset's multiple of --learning-rate, the discriminator's).
    settings = cls.cli_training_settings(learning_rate, training, args.loss)

    with scope:
        model = cls.from_preset(args.preset, **overrides)
        compile_model(
            model,
            learning_rate,
            settings,
            global_clipnorm=training.get("global_clipnorm"),
            schedule=schedule,
            total_steps=epochs * steps_per_epoch,
        )
    # The data before the run directory: a source without clips leaves nothing behind.
    train, validation = build_datasets(family, model, args, training)
    resuming = run_directory.prepare(out, args.overwrite)
    config = {
        "family": family,
        "preset": args.preset,
        "overrides": overrides,
        "model_class": cls.__name__,
        "model_config": model.get_config(),
        "data": args.data,
        "data_split": describe_split(args),
        "training": {
            "epochs": epochs,
            "steps_per_epoch": steps_per_epoch,
            "batch_size": args.batch_size or training["batch_size"],
            "learning_rate": learning_rate,
            "learning_rate_schedule": schedule,
            **({"global_clipnorm": training["global_clipnorm"]} if "global_clipnorm" in training else {}),
            **settings,
            "seed": args.seed,
            "validation_clips": args.validation_clips,
            "mixed_precision": args.mixed_precision,
            "strategy": described,
            "time_limit_minutes": args.time_limit_minutes,
            "snapshot_minutes": args.snapshot_minutes,
        },
        "backend": backend,
        "versions": _versions(backend),
        "command": sys.argv,
    }
    atomic_files.write_json(os.path.join(out, "config.json"), config)

    print(f"tfvidgen train {family} ({args.preset}, {model.count_params():,} parameters) on {args.data}")
    print(f"  {backend} backend, {described}; run directory {out}" + (" (resuming)" if resuming else ""))
    if backend == "jax" and all(device.startswith("cpu") for device in keras.distribution.list_devices()):
        print(
            "  (JAX on CPU: XLA:CPU trained these models 55-160x slower than TensorFlow with oneDNN; "
            "on CPUs prefer --backend tensorflow, see docs/benchmarks.md)"
        )
    sample_source = validation if validation is not None else train
    sample_batch = sample_source[0] if isinstance(sample_source, keras.utils.PyDataset) else next(iter(sample_source))
    time_limit = tfvidgen_callbacks.TimeLimit(args.time_limit_minutes) if args.time_limit_minutes else None
    last_good = tfvidgen_callbacks.LastGoodCheckpoint(os.path.join(out, "checkpoints", "last_good.keras"))
    backup = tfvidgen_callbacks.ResumableBackup(
        os.path.join(out, "backup"), save_freq=args.backup_every, fallback=last_good.filepath
    )
    callbacks = [
        backup,
        last_good,
        tfvidgen_callbacks.MetricsCSV(os.path.join(out, "metrics.csv")),
        tfvidgen_callbacks.VideoSamples(
            os.path.join(out, "samples"), sample_batch, every=args.sample_every, log_dir=os.path.join(out, "logs")
        ),
    ] + ([time_limit] if time_limit else [])
    if args.snapshot_minutes:
        callbacks.append(tfvidgen_callbacks.TimedSnapshots(os.path.join(out, "snapshots"), args.snapshot_minutes))
    best = None
    if cls.checkpoint_monitor and validation is not None:
        best = tfvidgen_callbacks.BestCheckpoint(
            os.path.join(out, "checkpoints", "best.keras"), monitor=cls.checkpoint_monitor
        )
        callbacks.append(best)
    if tfvidgen_callbacks.tensorboard_available():
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(out, "logs"), write_graph=False))
    elif backend == "tensorflow":
        print("  (no TensorBoard logs: `pip install tfvidgen[tensorboard]` to write them)")
    else:
        print("  (no TensorBoard logs: they are written with TensorFlow and tensorboard, which a JAX run leaves out)")
    epoch_seconds = []
    epoch_start = {}
    callbacks.append(
        keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: epoch_start.update(time=time.monotonic()),
            on_epoch_end=lambda epoch, logs: epoch_seconds.append(round(time.monotonic() - epoch_start["time"], 2)),
        )
    )
    start = time.monotonic()
    model.fit(
        train,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=validation,
        callbacks=callbacks,
        verbose=args.verbose,
        shuffle=False,  # The datasets shuffle themselves (a tf.data shuffle buffer, or ClipBatches).
    )
    seconds = time.monotonic() - start
    if backup.interrupted_by:
        print(
            f"  stopped by {backup.interrupted_by} after step {_steps(model)}; {out}/backup holds that step: "
            "rerun the same command to resume"
        )
        raise KeyboardInterrupt
    if last_good.stopped_at is not None:
        raise FloatingPointError(
            f"Training stopped at step {_steps(model)}: a non-finite value (NaN or Inf) in the logged metrics "
            f"(check the inputs of that step for NaN/Inf). {last_good.filepath} keeps the last good epoch; "
            f"{out}/backup the last resume point."
        )
    after_training = model.after_training(train, vars(args))  # The family's own step (the VAE's prior).
    # Seconds per epoch (validation and previews included; the first also compiles): throughput figures.
    summary = {"train_seconds": round(seconds, 1), "optimizer_steps": _steps(model), "epoch_seconds": epoch_seconds}
    if backup.resumed_from:
        summary["resumed_from"] = backup.resumed_from
    if time_limit and time_limit.stopped:
        summary["stopped_by_time_limit"] = True
    summary.update(after_training)
    if best is not None and os.path.exists(best.filepath):
        summary["best_checkpoint"] = {"path": best.filepath, "monitor": best.monitor, "value": float(best.best)}
    atomic_files.write_json(
        os.path.join(out, run_directory.PENDING_SUMMARY_FILE), summary
    )  # Before model.keras: see _finish.
    atomic_files.save_model(model, os.path.join(out, "model.keras"))
    backup.remove()  # Only now: the final model is safely written.
    print(f"  trained {summary['optimizer_steps']} steps in {seconds / 60:.1f} min; model: {out}/model.keras")
    return _finish(args, family, out, model, summary)


def _finish(args, family, out, model, summary):
    """What follows model.keras: the export, then summary.json, the mark of a finished run.

    An interruption here (Ctrl-C, a kill) leaves model.keras and the pending
    summary; the same command run again comes back here without training.
    """
    backend = keras.backend.backend()
    try:
        if not args.no_export and _is_chief():
            if backend == "tensorflow":
                from tfvidgen import export

                summary["export"] = export.export_for_serving(
                    model, os.path.join(out, "export", family), overwrite=True, version=1
                )
            else:
                print(
                    f"  (no SavedModel: export needs TensorFlow; run `tfvidgen export --model {out}/model.keras "
                    "--out DIR` where it is installed)"
                )
        atomic_files.write_json(os.path.join(out, run_directory.SUMMARY_FILE), summary)
    except KeyboardInterrupt:
        print(
            f"  interrupted after {out}/model.keras was written: rerun the same command to finish the run "
            f"(export, {run_directory.SUMMARY_FILE}) without training again"
        )
        raise
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(out, run_directory.PENDING_SUMMARY_FILE))
    if "export" in summary:
        print(f"  SavedModel: {summary['export']}")
    return out


def _finish_interrupted_run(args, family, out):
    """A rerun after an interruption that came once model.keras was written: the export and summary.json only."""
    try:
        with open(os.path.join(out, "config.json")) as file:
            trained = json.load(file).get("family")
    except (OSError, ValueError):
        trained = None
    if trained not in (None, family):
        raise ValueError(
            f"{out!r} holds an unfinished {trained} run, not a {family} one: rerun `tfvidgen train {trained}` with "
            "its other options to finish it, or pass --overwrite to start afresh."
        )
    print(
        f"tfvidgen train {family}: {out}/model.keras is written but {run_directory.SUMMARY_FILE} is not (the run was "
        "interrupted after training); finishing it without training"
    )
    backup = os.path.join(out, "backup")
    if os.path.isdir(backup):  # The kill came between model.keras and the backup's removal.
        shutil.rmtree(backup)
    atomic_files.remove_leftovers(out)
    try:
        with open(os.path.join(out, run_directory.PENDING_SUMMARY_FILE)) as file:
            summary = json.load(file)
    except (OSError, ValueError):  # A run of an older tfvidgen, which wrote none: what the model tells.
        summary = {}
    model = keras.saving.load_model(os.path.join(out, "model.keras"))
    summary["optimizer_steps"] = _steps(model)
    summary["finished_by_rerun"] = True
    return _finish(args, family, out, model, summary)


def _steps(model):
    return tfvidgen_callbacks.resumable_backup.optimizer_steps(model)


def _versions(backend):
    versions = {"keras": keras.__version__, "python": platform.python_version()}
    for name in ("tensorflow", "jax"):
        if backend == name or name in sys.modules:
            versions[name] = __import__(name).__version__
    return versions

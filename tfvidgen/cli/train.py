"""`tfvidgen train`: one command from data to a trained, exported model.

A run directory holds everything about a run:

    config.json        family, preset, model config, training settings, versions
    backup/            BackupAndRestore state while training (resume point)
    checkpoints/       last_good.keras, the last epoch with finite metrics; best.keras,
                       the epoch with the best validation score (ConvLSTM: rollout
                       loss; VAE: negative ELBO; none for the GAN, whose losses
                       do not rank models)
    logs/              TensorBoard scalars and sample images
    samples/           GIF and PNG previews per epoch
    metrics.csv        one row per epoch
    model.keras        the final model (weights, config, optimizer state)
    export/<family>/1/ the SavedModel for TF Serving

Running the same command again after an interruption resumes from `backup/`.
"""

import json
import os
import platform
import shutil
import sys
import time

import keras
import tensorflow as tf

from tfvidgen import callbacks as tfvidgen_callbacks
from tfvidgen import data as data_lib
from tfvidgen import distribute
from tfvidgen import export
from tfvidgen.models import FAMILIES

# The validation score `checkpoints/best.keras` minimises, per family.
BEST_MONITORS = {"convlstm": "val_loss", "vae": "val_nelbo", "dcgan": None, "interpolator": "val_loss"}
DEFAULT_LEARNING_RATES = {"convlstm": 1e-3, "dcgan": 2e-4, "vae": 1e-3, "interpolator": 1e-3}


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


def _clip_spec(family, model, training):
    if family in ("convlstm", "interpolator"):
        return training["num_frames"], model.frame_shape[:2], model.frame_shape[2]
    return model.clip_shape[0], model.clip_shape[1:3], model.clip_shape[3]


def build_datasets(family, model, args, training):
    """Training and validation datasets shaped for the model."""
    num_frames, frame_size, channels = _clip_spec(family, model, training)
    batch_size = args.batch_size or training["batch_size"]
    finite = data_lib.describe_source(args.data)[0] != "moving_mnist"
    train = data_lib.load_clips(args.data, num_frames, frame_size, channels, split="train", seed=args.seed)
    validation = data_lib.load_clips(
        args.data, num_frames, frame_size, channels, split="validation", num_clips=args.validation_clips, seed=args.seed
    ).cache()
    # Every family but the interpolator is fed whole clips; the ConvLSTM splits them
    # into context and target in its train_step. (A (context, target) tuple also works
    # with fit, except under MultiWorkerMirroredStrategy: Keras 3.15's first-batch build
    # calls strategy.reduce on the batch, which fails there for a tuple.)
    shuffle_buffer = 256 if finite else None
    if family == "interpolator":
        gap = training.get("gap", 1)
        train = data_lib.interpolation_triplets(train, gap)
        validation = data_lib.interpolation_triplets(validation, gap)
        # A clip gives several triplets in a row: shuffle them apart, even from an endless source.
        shuffle_buffer = 256
    train = data_lib.batch_dataset(train, batch_size, shuffle_buffer=shuffle_buffer, seed=args.seed, repeat=finite)
    validation = data_lib.batch_dataset(validation, min(batch_size, args.validation_clips), drop_remainder=True)
    return train, validation


def compile_model(family, model, learning_rate, generator_learning_rate=None):
    if family == "dcgan":
        model.compile(
            d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
            g_optimizer=keras.optimizers.Adam(generator_learning_rate or learning_rate, beta_1=0.5),
        )
    else:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate))


def _prepare_run_directory(out, overwrite):
    """Returns whether the run resumes: an interrupted run (a `backup/`) resumes unless `overwrite`."""
    if overwrite and os.path.isdir(out):
        shutil.rmtree(out)  # A fresh run: no stale backup, logs, samples or exports from the old one.
    finished = os.path.exists(os.path.join(out, "model.keras"))
    resuming = os.path.isdir(os.path.join(out, "backup"))
    if finished and not resuming:
        raise FileExistsError(
            f"{out!r} already holds a finished run (model.keras). Pass --overwrite to train again there, "
            "or --out another directory."
        )
    os.makedirs(out, exist_ok=True)
    return resuming


def run(args):
    """Trains per the parsed `tfvidgen train` arguments; returns the run directory."""
    family = args.family
    cls = FAMILIES[family]
    if args.preset not in cls.presets:
        raise ValueError(f"Unknown {family} preset {args.preset!r}; expected one of {sorted(cls.presets)}.")
    preset = cls.presets[args.preset]
    training = dict(preset["training"])
    out = args.out or os.path.join("runs", f"{family}-{args.preset}")
    if not _is_chief():  # Non-chief workers keep their files apart from the chief's.
        out = os.path.join(out, f"worker-{json.loads(os.environ['TF_CONFIG'])['task']['index']}")
    resuming = _prepare_run_directory(out, args.overwrite)
    keras.utils.set_random_seed(args.seed)
    distribute.set_mixed_precision(args.mixed_precision)
    strategy = distribute.get_strategy(args.strategy)
    overrides = parse_overrides(args.set)
    learning_rate = args.learning_rate or training.get("learning_rate") or DEFAULT_LEARNING_RATES[family]
    # The GAN's generator may learn faster than its discriminator (a preset's recipe); --learning-rate
    # sets the discriminator's and keeps the ratio.
    generator_learning_rate = learning_rate * training.get("generator_learning_rate_multiplier", 1.0)
    epochs = args.epochs or training["epochs"]
    steps_per_epoch = args.steps_per_epoch or training["steps_per_epoch"]

    with strategy.scope():
        model = cls.from_preset(args.preset, **overrides)
        compile_model(family, model, learning_rate, generator_learning_rate)
    train, validation = build_datasets(family, model, args, training)
    config = {
        "family": family,
        "preset": args.preset,
        "overrides": overrides,
        "model_class": cls.__name__,
        "model_config": model.get_config(),
        "data": args.data,
        "training": {
            "epochs": epochs,
            "steps_per_epoch": steps_per_epoch,
            "batch_size": args.batch_size or training["batch_size"],
            "learning_rate": learning_rate,
            **({"generator_learning_rate": generator_learning_rate} if family == "dcgan" else {}),
            "seed": args.seed,
            "validation_clips": args.validation_clips,
            "mixed_precision": args.mixed_precision,
            "strategy": distribute.describe(strategy),
            "time_limit_minutes": args.time_limit_minutes,
        },
        "versions": {
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "python": platform.python_version(),
        },
        "command": sys.argv,
    }
    with open(os.path.join(out, "config.json"), "w") as file:
        json.dump(config, file, indent=2, default=str)

    print(f"tfvidgen train {family} ({args.preset}, {model.count_params():,} parameters) on {args.data}")
    print(f"  {distribute.describe(strategy)}; run directory {out}" + (" (resuming)" if resuming else ""))
    sample_batch = next(iter(validation))
    time_limit = tfvidgen_callbacks.TimeLimit(args.time_limit_minutes) if args.time_limit_minutes else None
    callbacks = [
        keras.callbacks.BackupAndRestore(os.path.join(out, "backup"), save_freq=args.backup_every),
        tfvidgen_callbacks.LastGoodCheckpoint(os.path.join(out, "checkpoints", "last_good.keras")),
        keras.callbacks.CSVLogger(os.path.join(out, "metrics.csv"), append=True),
        tfvidgen_callbacks.VideoSamples(
            os.path.join(out, "samples"), sample_batch, every=args.sample_every, log_dir=os.path.join(out, "logs")
        ),
    ] + ([time_limit] if time_limit else [])
    best = None
    if BEST_MONITORS[family]:
        best = keras.callbacks.ModelCheckpoint(
            os.path.join(out, "checkpoints", "best.keras"),
            monitor=BEST_MONITORS[family],
            mode="min",
            save_best_only=True,
        )
        callbacks.append(best)
    if tfvidgen_callbacks.tensorboard_available():
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(out, "logs"), write_graph=False))
    else:
        print("  (no TensorBoard logs: `pip install tfvidgen[tensorboard]` to write them)")
    start = time.monotonic()
    model.fit(
        train,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=validation,
        callbacks=callbacks,
        verbose=args.verbose,
    )
    seconds = time.monotonic() - start
    model.save(os.path.join(out, "model.keras"))
    summary = {"train_seconds": round(seconds, 1), "optimizer_steps": _steps(model)}
    if time_limit and time_limit.stopped:
        summary["stopped_by_time_limit"] = True
    if best is not None and os.path.exists(best.filepath):
        summary["best_checkpoint"] = {"path": best.filepath, "monitor": best.monitor, "value": float(best.best)}
    if not args.no_export and _is_chief():
        path = export.export_for_serving(model, os.path.join(out, "export", family), overwrite=True, version=1)
        summary["export"] = path
    with open(os.path.join(out, "summary.json"), "w") as file:
        json.dump(summary, file, indent=2)
    print(f"  trained {summary['optimizer_steps']} steps in {seconds / 60:.1f} min; model: {out}/model.keras")
    if "export" in summary:
        print(f"  SavedModel: {summary['export']}")
    return out


def _steps(model):
    optimizer = model.optimizer if model.optimizer is not None else model.g_optimizer
    # `.numpy()`, not `int()`: under MultiWorkerMirroredStrategy the value is a MirroredVariable.
    return int(optimizer.iterations.numpy())

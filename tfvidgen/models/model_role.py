"""The hooks through which a model's role (and its family) decide the export, the previews and the CLI.

`FramePredictor`, `GenerativeModel` and `InterpolatorModel` implement them for
their role; a family overrides only what is its own (the VAE's `encode` and
`reconstruct` signatures, the GAN's two optimizers, the VAE's prior fitted
after training). Nothing outside `tfvidgen.models` and `tfvidgen.families`
branches on a family's name: `tfvidgen.export`, `tfvidgen.callbacks.previews`,
`tfvidgen.metrics` and `tfvidgen.cli` call these.
"""

from tfvidgen.deprecation import deprecated  # noqa: F401 (the families' deprecated aliases use it from here)


class ModelRole:
    """Mixin of the role hooks, with the defaults a role or a family overrides.

    A role class sets `role` (its name in `tfvidgen.families`) and
    `default_signature`, and implements `serving_signatures`, `previews` and
    `training_clip_shape`.
    """

    role = None  # "prediction", "generation" or "interpolation": the name tfvidgen.families records.
    default_signature = None  # The signature also served as `serving_default`.
    accepts_loss = False  # Whether `tfvidgen train --loss` applies (the predictors').
    numpy_training = True  # Whether the family trains from NumPy batches (JAX without tf.data).
    # Whether `tfvidgen train` feeds `(clips, labels)` where the source has labels (Moving MNIST's digits, int32
    # `(batch, num_digits)`; `tfvidgen.data.LABELLED_SOURCES`); clips alone from the others (video files). A class-
    # conditional family sets it and takes the labels as `fit`'s `y`.
    trains_on_labels = False

    # === Serving ===

    def serving_signatures(self):
        """`{name: tfvidgen.models.signature_spec.Signature}`: the role's, then the family's `extra_signatures()`."""
        raise NotImplementedError(f"{type(self).__name__} declares no serving signatures.")

    def extra_signatures(self):
        """A family's signatures beyond its role's (the VAE's `encode`, `reconstruct`); `{}` by default."""
        return {}

    # === Training previews (tfvidgen.callbacks.VideoSamples) ===

    def previews(self, batch, seed=0):
        """`{name: (n, frames, height, width, channels)}` clips showing the model at work on `batch`."""
        raise NotImplementedError(f"{type(self).__name__} has no training previews.")

    # === The CLI's training run (tfvidgen train) ===

    def training_clip_shape(self, training):
        """`(frames, height, width, channels)` of the clips read for training; `training` is the preset's entry."""
        raise NotImplementedError(f"{type(self).__name__} names no training clip shape.")

    def training_examples(self, clips, training):
        """`(dataset, shuffle_buffer)`: the tf.data clips turned into what `fit` takes.

        `shuffle_buffer` None keeps the CLI's choice. The default feeds whole clips.
        """
        return clips, None

    @classmethod
    def cli_training_settings(cls, learning_rate, training, loss=None):
        """The family's own compile settings for `tfvidgen train` (recorded in the run's `config.json`).

        Args:
            learning_rate: the run's learning rate.
            training: the preset's `training` entry.
            loss: `--loss`, or None.

        Returns:
            A dict passed to `compile_for_training` as keyword arguments.
        """
        return {}

    def compile_for_training(self, make_optimizer, learning_rate, **settings):
        """Compiles for `tfvidgen train`; `make_optimizer(rate, **options)` builds the run's optimizer."""
        self.compile(optimizer=make_optimizer(learning_rate), **settings)

    def after_training(self, train, options, log=print):
        """Runs after `fit` in `tfvidgen train`; returns entries for the run's `summary.json`.

        Args:
            train: the training data the run used.
            options: the run's options (`vars()` of the parsed arguments).
            log: prints one line to the run's output.
        """
        return {}

    # === Evaluation (tfvidgen evaluate) ===

    def evaluation_extras(self, clips, batch_size):
        """A family's scores beyond its role's on held-out `clips` (the VAE's reconstruction and ELBO); `{}`."""
        return {}

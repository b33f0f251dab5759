"""The registry of model families: one place that names them, importing nothing heavy.

The CLI parses family names before Keras is imported, and a SavedModel records the class it was exported from; both
read this table. `tfvidgen.models.FAMILIES` maps the same names to the classes, whose `family` attribute is the key.
"""

# family name -> model class name (in tfvidgen.models)
FAMILY_CLASSES = {
    "convlstm": "ConvLSTMPredictor",
    "simvp": "SimVPPredictor",
    "dcgan": "VideoDCGAN",
    "vae": "VideoVAE",
    "interpolator": "FrameInterpolator",
}
FAMILY_NAMES = tuple(FAMILY_CLASSES)
FAMILY_OF_CLASS = {class_name: family for family, class_name in FAMILY_CLASSES.items()}
GENERATIVE_FAMILIES = ("dcgan", "vae")
# Frame predictors: context frames in, future frames out, the `rollout` signature.
PREDICTOR_FAMILIES = ("convlstm", "simvp")

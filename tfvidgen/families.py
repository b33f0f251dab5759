"""The registry of model families: one place that names them, importing nothing heavy.

The CLI parses family names before Keras is imported, and a SavedModel records the class it was exported from; both
read this table. `tfvidgen.models.FAMILIES` maps the same names to the classes (imported from
`tfvidgen.models.<package>`), whose `family` attribute is the key and whose `role` is the role named here.

A family is one folder `tfvidgen/models/<package>/` (its `__init__.py` exporting the class) and one line below;
what it does at export, in previews and in the CLI comes from its role class and hooks (`tfvidgen.models.model_role`,
docs/architecture.md), never from a branch on its name.
"""

import collections

# The roles (what a family is for), each a class in tfvidgen.models: FramePredictor, GenerativeModel,
# InterpolatorModel. Named apart from the families (a family "interpolator" has the role "interpolation").
ROLES = ("prediction", "generation", "interpolation")

Family = collections.namedtuple("Family", ["class_name", "role", "package"])

# family name -> (model class name, role, package in tfvidgen.models)
FAMILY_TABLE = {
    "convlstm": Family("ConvLSTMPredictor", "prediction", "convlstm"),
    "simvp": Family("SimVPPredictor", "prediction", "simvp"),
    "dcgan": Family("VideoDCGAN", "generation", "dcgan"),
    "vae": Family("VideoVAE", "generation", "vae"),
    "interpolator": Family("FrameInterpolator", "interpolation", "interpolator"),
    "diffusion": Family("VideoDiffusion", "generation", "diffusion"),
}

FAMILY_NAMES = tuple(FAMILY_TABLE)
FAMILY_CLASSES = {family: entry.class_name for family, entry in FAMILY_TABLE.items()}
FAMILY_OF_CLASS = {entry.class_name: family for family, entry in FAMILY_TABLE.items()}
FAMILY_ROLES = {family: entry.role for family, entry in FAMILY_TABLE.items()}


def families_with_role(role):
    """The names of the families of `role`, in table order."""
    return tuple(family for family, entry in FAMILY_TABLE.items() if entry.role == role)


GENERATIVE_FAMILIES = families_with_role("generation")
# Frame predictors: context frames in, future frames out, the `rollout` signature.
PREDICTOR_FAMILIES = families_with_role("prediction")

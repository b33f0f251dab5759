"""TF Serving's `--model_config_file`: several models from one server."""

import os


def model_config_list(models, platform="tensorflow"):
    """The text-proto `model_config_list` serving `{name: base_path}`.

    Each base path is a directory of integer versions (what
    `tfvidgen.export.export_for_serving` writes); TF Serving serves the
    highest version of each and picks up new ones as they appear.

    Example:

    >>> print(model_config_list({"convlstm": "/models/convlstm"}))
    model_config_list {
      config {
        name: "convlstm"
        base_path: "/models/convlstm"
        model_platform: "tensorflow"
      }
    }
    """
    if not models:
        raise ValueError("`models` must name at least one model: {name: base_path}.")
    lines = ["model_config_list {"]
    for name, base_path in models.items():
        if not name or any(character in name for character in ' "/\\'):
            raise ValueError(f"Model name {name!r} must be non-empty, without spaces, quotes or slashes.")
        lines += [
            "  config {",
            f'    name: "{name}"',
            f'    base_path: "{os.fspath(base_path)}"',
            f'    model_platform: "{platform}"',
            "  }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"

"""Files written whole or not at all: a temporary name in the same directory, renamed into place.

`os.replace` within one directory is atomic on POSIX and Windows, so a reader
(or a resumed run) sees the old file or the new one, never half of one, whatever
kills the writer (Ctrl-C, SIGTERM, SIGKILL, a full disk).
"""

import contextlib
import json
import os
import tempfile

TEMPORARY_MARKER = ".tmp-"


def _umask_file_mode():
    """The mode `open()` gives a new file under this process's umask (0o644 under the usual 0o022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


# Read once, at import: reading the umask sets it for a moment, which threads writing files must not see.
FILE_MODE = _umask_file_mode()


def temporary_path(path):
    """Creates an empty hidden file beside `path` (`.NAME.tmp-XXXX` + its endings) and returns its path.

    The endings are kept because writers pick the format from them (".keras",
    ".weights.h5", ".mp4"); `remove_leftovers` finds what a killed writer left.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    name = os.path.basename(path)
    suffix = name[name.index(".") :] if "." in name else ""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{name}{TEMPORARY_MARKER}", suffix=suffix, dir=directory)
    os.close(descriptor)
    # mkstemp makes the file private (0o600); the renamed file must be readable as any other file the user writes
    # (by a TF Serving container running as another user, say).
    os.chmod(temporary, FILE_MODE)
    return temporary


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` (same extension); renames it to `path` if the block succeeds.

    Example:

    >>> with atomic_path("run/model.keras") as temporary:
    ...     model.save(temporary)
    """
    path = os.fspath(path)
    temporary = temporary_path(path)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def save_model(model, path):
    """`model.save(path)`, atomically."""
    with atomic_path(path) as temporary:
        model.save(temporary, overwrite=True)
    return os.fspath(path)


def write_text(path, text):
    with atomic_path(path) as temporary:
        with open(temporary, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
    return os.fspath(path)


def write_json(path, data):
    """`data` as indented JSON, atomically."""
    return write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def remove_leftovers(directory):
    """Deletes temporary files a killed writer left in `directory`; returns their names."""
    if not os.path.isdir(directory):
        return []
    removed = []
    for name in os.listdir(directory):
        if name.startswith(".") and TEMPORARY_MARKER in name and os.path.isfile(os.path.join(directory, name)):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(directory, name))
                removed.append(name)
    return removed

"""Files written whole or not at all: a temporary name in the same directory, renamed into place.

`os.replace` within one directory is atomic on POSIX and Windows, so a reader
(or a resumed run) sees the old file or the new one, never half of one, whatever
kills the writer (Ctrl-C, SIGTERM, SIGKILL, a full disk). A failed write removes
its temporary and raises an `OSError` naming the final path and the cause
("could not write 'run/model.keras': no space left on device"). A temporary's
name holds its writer's process id and start time, so the next write of the
same file removes what a killed writer left.
"""

import contextlib
import json
import os
import re
import tempfile

TEMPORARY_MARKER = ".tmp-"


def _umask_file_mode():
    """The mode `open()` gives a new file under this process's umask (0o644 under the usual 0o022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


# Read once, at import: reading the umask sets it for a moment, which threads writing files must not see.
FILE_MODE = _umask_file_mode()


def _process_start(pid):
    """The start time of process `pid` in clock ticks since boot (Linux), or "" where it cannot be read.

    With the process id it names one process: a process id reused after a kill
    (a container's PID 1 is every run's) comes with another start time.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except OSError:
        return ""
    fields = stat[stat.rindex(b")") + 2 :].split()  # The command name may hold spaces and parentheses.
    return fields[19].decode() if len(fields) > 19 else ""  # Field 22, starttime.


def _process_state(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except OSError:
        return ""
    return stat[stat.rindex(b")") + 2 :].split()[0].decode()


def _writer_running(pid, start):
    """Whether the process that made a temporary (`pid`, `start` from its name) still runs."""
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows: keep what cannot be checked.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: another user's process, running.
        return True
    if _process_state(pid) == "Z":  # Killed, not yet reaped by its parent.
        return False
    return not start or _process_start(pid) in ("", start)


def _owner_tag():
    return f"{os.getpid()}-{_process_start(os.getpid())}-"


def remove_stale_temporaries(path):
    """Deletes the temporaries of `path` whose writer process is gone (killed mid-write); returns their names.

    Temporaries of running writers, this process's included, are kept, and so
    are those of older tfvidgen versions (no process id in the name).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    pattern = re.compile(re.escape(f".{name}{TEMPORARY_MARKER}") + r"(\d+)-(\d*)-")
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for candidate in names:
        match = pattern.match(candidate)
        if match and not _writer_running(int(match.group(1)), match.group(2)):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(directory, candidate))
                removed.append(candidate)
    return removed


def write_error(path, error):
    """`error` (an `OSError`) as one line naming `path`: "could not write 'PATH': no space left on device".

    The result keeps the errno and, where it can, the `OSError` subclass, so
    callers can still test `error.errno == errno.ENOSPC`.
    """
    prefix = f"could not write {os.fspath(path)!r}: "
    if str(error).startswith(prefix):  # Already named.
        return error
    cause = error.strerror or str(error) or type(error).__name__
    try:
        wrapped = type(error)(prefix + cause[:1].lower() + cause[1:])
    except Exception:  # A subclass with other constructor arguments.
        wrapped = OSError(prefix + cause[:1].lower() + cause[1:])
    wrapped.errno = error.errno  # Set after construction: str() stays the one line, without "[Errno N]".
    return wrapped


def write_failure(path, cause, code=None):
    """An `OSError` saying `path` could not be written because of `cause` (text), with errno `code`."""
    error = OSError(f"could not write {os.fspath(path)!r}: {cause}")
    error.errno = code
    return error


def temporary_path(path):
    """Creates an empty hidden file beside `path` and returns its path.

    The name is `.NAME.tmp-PID-START-XXXX` + the endings of `path`: the
    endings are kept because writers pick the format from them (".keras",
    ".weights.h5", ".mp4"); the writer's process id and start time let the next
    writer of `path` remove what a killed one left (`remove_stale_temporaries`,
    run here first), and `remove_leftovers` clean a whole directory.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temporaries(path)
    name = os.path.basename(path)
    suffix = name[name.index(".") :] if "." in name else ""
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{name}{TEMPORARY_MARKER}{_owner_tag()}", suffix=suffix, dir=directory
    )
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
    try:
        temporary = temporary_path(path)
    except OSError as error:
        raise write_error(path, error) from error
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        if isinstance(error, OSError):
            raise write_error(path, error) from error
        raise


def save_model(model, path):
    """`model.save(path)`, atomically."""
    with atomic_path(path) as temporary:
        model.save(temporary, overwrite=True)
    return os.fspath(path)


def write_text(path, text):
    """`text` to `path` as UTF-8, atomically (see `write_bytes`)."""
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path, data):
    """`data` to `path`, atomically, synced to disk before the rename (a full disk raises, naming `path`)."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as file:
            file.write(data)
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

"""A `tfvidgen train` run directory: its lock, what a run finds there (fresh, resume, finish) and its clearing.

One `tfvidgen train` per run directory: an exclusive lock on a file inside it, held for the whole run.

Two runs writing into one directory corrupt each other (one's config.json, the
other's model.keras, a metrics.csv of both). The run takes an exclusive
`fcntl.flock` on `DIRECTORY/train.lock` and holds it until it ends; the
operating system releases it when the process dies, however it dies (kill -9
included), so a stale lock never blocks a rerun. A second run finds the lock
held and stops at once, naming the holder's process ID, which the holder
writes into the file. Each process of a multi-worker run locks its own
directory (the chief `--out`, the others `--out/worker-N`).

Where `fcntl` does not exist (Windows), or the file system has no `flock`
(some NFS and FUSE mounts), runs are not locked.
"""

import contextlib
import errno
import os
import shutil
import time

from tfvidgen import atomic_files

try:
    import fcntl
except ImportError:  # Windows.
    fcntl = None

LOCK_FILE = "train.lock"


class RunDirectoryInUse(RuntimeError):
    """Another process holds the run directory's lock."""


@contextlib.contextmanager
def locked(directory):
    """Holds `directory`'s lock for the block (creating the directory); raises `RunDirectoryInUse` if taken.

    A directory this call created and that holds nothing but the lock file at
    the end (a run that failed before writing anything) is removed again.
    """
    directory = os.fspath(directory)
    created = _missing_ancestors(directory)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, LOCK_FILE)
    descriptor = _acquire(path, directory) if fcntl is not None else None
    try:
        yield path
    finally:
        try:
            if created and os.listdir(directory) == [LOCK_FILE]:
                # Removed while still held: a process that opened the old file finds it gone and starts over.
                os.remove(path)
                for folder in created:
                    os.rmdir(folder)
        except OSError:  # The directory went away during the run, or another process wrote into it: keep it.
            pass
        finally:
            if descriptor is not None:
                os.close(descriptor)  # Releases the lock.


def _missing_ancestors(directory):
    """The folders `os.makedirs(directory)` would create, deepest first."""
    missing = []
    folder = os.path.abspath(directory)
    while not os.path.exists(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return missing


def _acquire(path, directory):
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):  # Some NFS/FUSE mounts: no flock.
                os.close(descriptor)
                return None
            if not isinstance(error, BlockingIOError):
                os.close(descriptor)
                raise
            holder = _holder(descriptor)
            os.close(descriptor)
            raise RunDirectoryInUse(
                f"{directory!r} is in use by another tfvidgen train (PID {holder}); wait for it to end, "
                "or pass another --out."
            ) from None
        except BaseException:
            os.close(descriptor)
            raise
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(current, os.fstat(descriptor)):
            break
        os.close(descriptor)  # The holder removed the file (its run wrote nothing) after this process opened it.
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
    except OSError as error:
        os.close(descriptor)
        raise atomic_files.write_error(path, error) from error
    return descriptor


def _holder(descriptor, wait_seconds=1.0):
    """The holder's process ID from the lock file; it writes it just after locking, so wait for it a moment."""
    deadline = time.monotonic() + wait_seconds
    while True:
        text = os.pread(descriptor, 64, 0).decode("ascii", "replace").strip()
        if text.isdigit() or time.monotonic() > deadline:
            return text if text.isdigit() else "unknown"
        time.sleep(0.02)


SUMMARY_FILE = "summary.json"
# The summary of the training, written before model.keras: what a rerun that finishes the run writes out.
PENDING_SUMMARY_FILE = "summary.pending.json"


def check(out, overwrite):
    """What a run in `out` does; raises over a finished run. Changes nothing.

    Returns `"fresh"` (nothing there, or --overwrite), `"resume"` (a `backup/`)
    or `"finish"` (a `model.keras` but no `summary.json`: the run stopped
    after training, during the export).
    """
    if overwrite:
        return "fresh"
    if os.path.exists(os.path.join(out, SUMMARY_FILE)):
        raise FileExistsError(
            f"{out!r} already holds a finished run ({SUMMARY_FILE}). Pass --overwrite to train again there, "
            "or --out another directory."
        )
    if os.path.exists(os.path.join(out, "model.keras")):
        return "finish"
    return "resume" if os.path.isdir(os.path.join(out, "backup")) else "fresh"


def prepare(out, overwrite):
    """Returns whether the run resumes: an interrupted run (a `backup/`) resumes unless `overwrite`."""
    resuming = check(out, overwrite) == "resume"
    if overwrite and os.path.isdir(out):
        clear(out)  # A fresh run: no stale backup, logs, samples or exports from the old one.
    os.makedirs(out, exist_ok=True)
    atomic_files.remove_leftovers(out)
    return resuming


def clear(out):
    """Deletes everything in `out` but the lock this run holds."""
    for name in os.listdir(out):
        path = os.path.join(out, name)
        if name == LOCK_FILE:
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)

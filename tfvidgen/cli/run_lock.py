"""One `tfvidgen train` per run directory: an exclusive lock on a file inside it, held for the whole run.

Two runs writing into one directory corrupt each other (one's config.json, the
other's model.keras, a metrics.csv of both). The run takes an exclusive
`fcntl.flock` on `DIRECTORY/train.lock` and holds it until it ends; the
operating system releases it when the process dies, however it dies (kill -9
included), so a stale lock never blocks a rerun. A second run finds the lock
held and stops at once, naming the holder's process ID, which the holder
writes into the file. Each process of a multi-worker run locks its own
directory (the chief `--out`, the others `--out/worker-N`).

Where `fcntl` does not exist (Windows) runs are not locked.
"""

import contextlib
import os
import time

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
        if created and os.listdir(directory) == [LOCK_FILE]:
            # Removed while still held: a process that opened the old file finds it gone and starts over.
            with contextlib.suppress(OSError):
                os.remove(path)
                for folder in created:
                    os.rmdir(folder)
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
        except BlockingIOError:
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
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode())
    return descriptor


def _holder(descriptor, wait_seconds=1.0):
    """The holder's process ID from the lock file; it writes it just after locking, so wait for it a moment."""
    deadline = time.monotonic() + wait_seconds
    while True:
        text = os.pread(descriptor, 64, 0).decode("ascii", "replace").strip()
        if text.isdigit() or time.monotonic() > deadline:
            return text if text.isdigit() else "unknown"
        time.sleep(0.02)

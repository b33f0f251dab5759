"""Pretrained preset directories: where a registered name lives, a URL fetched once, float16 weights, hashes.

A preset directory, keras-hub style, holds `config.json` (class and constructor config), `model.weights.h5`
(float16; Keras casts each weight back to the model's dtype on load), `metadata.json` (metrics, the training
command, hardware, and the sha256 of the other two, checked at load) and a `README.md`.
"""

import hashlib
import json
import os
import re
import shutil
import tempfile
import urllib.parse

import numpy as np

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
# Shipped in the wheel as package data (tfvidgen/presets/); in a checkout `saved_models/` points there.
PACKAGE_PRESETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "presets")
CACHE_SUBDIR = "tfvidgen_presets"
_URL_HASH = re.compile(r"^(?P<url>[a-z][a-z0-9+.-]*://[^#]+)(?:#sha256=(?P<hash>[^#]*))?$", re.IGNORECASE)


def presets_root():
    """The directory holding the shipped presets: the installed package's, else the checkout's `saved_models/`."""
    try:
        from importlib import resources

        root = resources.files("tfvidgen") / "presets"
        if root.is_dir():
            return os.fspath(root)
    except (ImportError, TypeError, ModuleNotFoundError):  # A zipped or unusual install: fall back to the path.
        pass
    if os.path.isdir(PACKAGE_PRESETS):
        return PACKAGE_PRESETS
    return os.path.join(os.path.dirname(os.path.dirname(PACKAGE_PRESETS)), "saved_models")


def is_url(preset):
    return isinstance(preset, str) and "://" in preset


def fetch(preset):
    """The local directory of a preset archive at `URL#sha256=HEX`, downloaded once into the Keras cache.

    `keras.utils.get_file(..., extract=True, cache_subdir="tfvidgen_presets")` keeps the archive (a `.tar.gz`,
    `.tar` or `.zip` of one preset directory) under `$KERAS_HOME/tfvidgen_presets/` and reuses it while its
    sha256 matches; a download whose sha256 differs is deleted and refused.

    Raises:
        ValueError: a URL without `#sha256=` and 64 hex digits; a download whose sha256 differs; a URL that cannot
            be fetched (named, with the cause); an archive without a preset.
    """
    match = _URL_HASH.match(preset)
    expected_hash = (match.group("hash") or "").lower() if match else ""
    if not match or not re.fullmatch(r"[0-9a-f]{64}", expected_hash):
        raise ValueError(
            "A preset URL must end in '#sha256=' and the 64 hex digits of the archive's sha256 (e.g. "
            f"'https://host/simvp.tar.gz#sha256=<sha256sum of the file>'). Received: preset={preset!r}"
        )
    url = match.group("url")
    import keras

    basename = os.path.basename(urllib.parse.urlsplit(url).path) or "preset"
    stem, dot, suffix = basename.partition(".")
    # Keyed by the hash, so two archives of one name never share a cache entry.
    fname = f"{stem}-{expected_hash[:16]}{dot}{suffix or 'archive'}"
    cache_dir = cache_directory()
    datadir = os.path.join(cache_dir, CACHE_SUBDIR)
    try:
        extracted = keras.utils.get_file(
            fname=fname,
            origin=url,
            file_hash=expected_hash,
            hash_algorithm="sha256",
            extract=True,
            cache_subdir=CACHE_SUBDIR,
            cache_dir=cache_dir,
        )
    except ValueError as error:
        if "hash does not match" not in str(error):
            raise
        download = os.path.join(datadir, fname)
        actual = sha256_of(download) if os.path.exists(download) else "?"
        if os.path.exists(download):
            os.remove(download)  # Not kept: the next call downloads again.
        raise ValueError(
            f"The preset downloaded from {url!r} has sha256 {actual}, not the {expected_hash} its URL names; "
            "refused (check the hash, or the file on the server)."
        ) from None
    except Exception as error:  # Keras raises a bare Exception("URL fetch failure on URL: errno -- reason").
        cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"Could not fetch the preset {url!r}: {cause}") from None
    if os.path.isfile(extracted):  # Keras before 3.6 returned the archive and extracted it beside; extract our own.
        extracted = _extract_once(extracted)
    return _preset_directory_in(extracted, url)


def _extract_once(archive):
    """`archive` extracted into `ARCHIVE_extracted/` (once), refusing members that would land outside it."""
    import shutil

    target = archive + "_extracted"
    if not os.path.isdir(target):
        temporary = tempfile.mkdtemp(dir=os.path.dirname(archive))
        try:
            shutil.unpack_archive(archive, temporary, filter="data")
        except TypeError:  # A Python without extraction filters (before 3.10.12 / 3.11.4).
            shutil.rmtree(temporary, ignore_errors=True)
            raise ValueError(
                f"Extracting {archive!r} safely needs Keras >= 3.6 or Python >= 3.11.4; upgrade either."
            ) from None
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        os.replace(temporary, target)
    return target


def cache_directory():
    """Where `fetch` keeps archives (under `tfvidgen_presets/`): `$KERAS_HOME` as set now, else Keras' home."""
    import keras

    base = os.path.expanduser(os.environ.get("KERAS_HOME") or keras.config.keras_home())
    os.makedirs(base, exist_ok=True)
    if not os.access(base, os.W_OK):  # As Keras does: a read-only home falls back to a temporary directory.
        base = os.path.join(tempfile.gettempdir(), ".keras")
    return base


def _preset_directory_in(extracted, url):
    """The preset directory inside an extracted archive: its top level, or its one subdirectory."""
    if os.path.isfile(os.path.join(extracted, CONFIG_FILE)):
        return extracted
    names = sorted(os.listdir(extracted)) if os.path.isdir(extracted) else []
    candidates = [
        os.path.join(extracted, name) for name in names if os.path.isfile(os.path.join(extracted, name, CONFIG_FILE))
    ]
    if len(candidates) != 1:
        raise ValueError(
            f"The archive at {url!r} holds no preset: expected {CONFIG_FILE} at its top level or in one directory."
        )
    return candidates[0]


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_metadata(directory):
    """A preset's `metadata.json` as a dict, `{}` when it has none (presets written before metadata existed)."""
    path = os.path.join(directory, METADATA_FILE)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path) as file:
            metadata = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path!r} is not valid JSON ({str(error).splitlines()[0]}).") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"{path!r} must hold a JSON object.")
    return metadata


def check_hash(directory, name, metadata):
    """Raises a one-line `ValueError` when `name`'s sha256 differs from the one `metadata.json` records."""
    expected = (metadata.get("sha256") or {}).get(name)
    if not expected:
        return
    path = os.path.join(directory, name)
    actual = sha256_of(path)
    if actual != expected:
        raise ValueError(
            f"{path!r} has sha256 {actual}, not the {expected} that {METADATA_FILE} records: the file was changed "
            "or damaged; restore it (or update metadata.json if the change is yours)."
        )


def write_float16_weights(source, destination):
    """Copies a Keras `.weights.h5` with every float32 array stored as float16 (other dtypes kept as they are)."""
    import h5py

    with h5py.File(source, "r") as reader, h5py.File(destination, "w") as writer:
        writer.attrs.update(reader.attrs)

        def copy(group_in, group_out):
            for key, item in group_in.items():
                if isinstance(item, h5py.Group):
                    child = group_out.create_group(key)
                    child.attrs.update(item.attrs)
                    copy(item, child)
                else:
                    value = item[()]
                    if getattr(value, "dtype", None) == np.float32:  # Arrays and 0-d values (np.float32) alike.
                        value = np.asarray(value, dtype=np.float16)
                    dataset = group_out.create_dataset(key, data=value)
                    dataset.attrs.update(item.attrs)

        copy(reader, writer)


def store_weights_as_float16(directory):
    """Rewrites `directory/model.weights.h5` with float16 arrays; returns False when it held no float32 array."""
    import h5py

    path = os.path.join(directory, WEIGHTS_FILE)
    found = []
    with h5py.File(path, "r") as file:
        file.visititems(lambda name, item: found.append(name) if getattr(item, "dtype", None) == np.float32 else None)
    if not found:
        return False
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        converted = os.path.join(scratch, WEIGHTS_FILE)
        write_float16_weights(path, converted)
        shutil.move(converted, path)
    return True


def write_metadata(directory, **fields):
    """Writes `metadata.json`: `fields` and the sha256 of `config.json` and `model.weights.h5`."""
    from tfvidgen import atomic_files

    metadata = dict(fields)
    metadata["sha256"] = {name: sha256_of(os.path.join(directory, name)) for name in (CONFIG_FILE, WEIGHTS_FILE)}
    atomic_files.write_json(os.path.join(directory, METADATA_FILE), metadata)
    return metadata

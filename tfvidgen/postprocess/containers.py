"""Whether a video file is whole: its container's own sizes against the bytes on disk.

OpenCV's `VideoWriter` reports no write error. On a full disk FFmpeg's writes
fail one after another, `release()` returns, and the file is cut short: an MP4
without its index (`moov`), an AVI or MKV whose header promises more bytes
than there are (both still open and claim every frame). Walking the top-level
structure (a few small reads) tells a whole file from a cut one.
"""

import os
import struct


def _iso_media(file, size):
    """MP4, MOV, M4V: boxes `[size32][type]` (size 1: a 64-bit size follows; 0: to the end of the file)."""
    position, types = 0, []
    while position < size:
        file.seek(position)
        header = file.read(16)
        if len(header) < 8:
            return f"a box header is cut at byte {position}"
        box_size, box_type = struct.unpack(">I4s", header[:8])
        if box_size == 1:
            if len(header) < 16:
                return f"a box header is cut at byte {position}"
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            box_size = size - position
        if box_size < 8:
            return f"a box at byte {position} has an impossible size ({box_size})"
        types.append(box_type)
        position += box_size
    if position != size:
        return f"its boxes need {position:,} bytes, the file has {size:,}"
    if b"moov" not in types:
        return "it has no index (no 'moov' box)"
    return None


def _riff(file, size):
    """AVI: `RIFF` chunks (a second and later `RIFF AVIX` past 1 GB), each `[tag][size32 little-endian]`."""
    position = 0
    while position < size:
        file.seek(position)
        header = file.read(8)
        if len(header) < 8:
            return f"a chunk header is cut at byte {position}"
        tag, chunk_size = struct.unpack("<4sI", header)
        if position == 0 and tag != b"RIFF":
            return "it does not start with a RIFF header"
        position += 8 + chunk_size + (chunk_size & 1)
    if position != size:
        return f"its RIFF header promises {position:,} bytes, the file has {size:,}"
    return None


def _ebml_number(file):
    """An EBML variable-length number: `(value, length, all_ones)`, or None at the end of the file."""
    first = file.read(1)
    if not first:
        return None
    first = first[0]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        raise ValueError("an invalid EBML length")
    rest = file.read(length - 1)
    if len(rest) < length - 1:
        return None
    value = first & (0xFF >> length)
    for byte in rest:
        value = value << 8 | byte
    return value, length, value == (1 << (7 * length)) - 1


def _matroska(file, size):
    """MKV: top-level EBML elements `[id][size]` (the EBML header, then the Segment)."""
    position = 0
    while position < size:
        file.seek(position)
        try:
            element = _ebml_number(file)
            length = _ebml_number(file) if element else None
        except ValueError:
            return f"an element at byte {position} is not EBML"
        if element is None or length is None:
            return f"an element header is cut at byte {position}"
        value, length_bytes, unknown = length
        if unknown:  # FFmpeg fills the size in when it finishes a file: a full disk left the placeholder.
            return f"the element at byte {position} never got its size (the muxer did not finish)"
        position += element[1] + length_bytes + value
    if position != size:
        return f"its Segment header promises {position:,} bytes, the file has {size:,}"
    return None


_WALKERS = {".mp4": _iso_media, ".m4v": _iso_media, ".mov": _iso_media, ".avi": _riff, ".mkv": _matroska}


def problem(path, extension=None):
    """What makes the video file at `path` incomplete, in words, or None when its structure is whole.

    Args:
        path: the file.
        extension: its container, by extension (default: `path`'s); others
            (GIF) are not checked.
    """
    path = os.fspath(path)
    extension = (extension or os.path.splitext(path)[1]).lower()
    size = os.path.getsize(path)
    if size == 0:
        return "the encoder wrote 0 bytes"
    walker = _WALKERS.get(extension)
    if walker is None:
        return None
    with open(path, "rb") as file:
        return walker(file, size)

"""Clips out to people: GIF, MP4 and PNG grids, now at home in `tfvidgen.postprocess`.

This module keeps the old imports working: each name is `tfvidgen.postprocess`'s
(`write_video`, `write_gif`, `write_mp4`, `gif_bytes`, `read_video`,
`tile_clips`, `frame_strip_grid`, `png_bytes`, `write_png`,
`prediction_grid`, `to_uint8`). Every writer is atomic and checked: it writes a
temporary beside the file, renames it into place only once the write is
verified, and otherwise raises one `OSError` naming the path and the cause
("could not write 'out.gif': no space left on device"), leaving a file already
there untouched.
"""

from tfvidgen.postprocess import editing as _editing
from tfvidgen.postprocess.clips import to_uint8
from tfvidgen.postprocess.reader import read_video
from tfvidgen.postprocess.stills import frame_strip_grid
from tfvidgen.postprocess.stills import png_bytes
from tfvidgen.postprocess.stills import prediction_grid
from tfvidgen.postprocess.stills import tile_clips
from tfvidgen.postprocess.stills import write_png
from tfvidgen.postprocess.writer import DEFAULT_FPS
from tfvidgen.postprocess.writer import VIDEO_CODECS
from tfvidgen.postprocess.writer import gif_bytes
from tfvidgen.postprocess.writer import write_gif
from tfvidgen.postprocess.writer import write_mp4
from tfvidgen.postprocess.writer import write_video

__all__ = [
    "DEFAULT_FPS",
    "VIDEO_CODECS",
    "frame_strip_grid",
    "gif_bytes",
    "png_bytes",
    "prediction_grid",
    "read_video",
    "side_by_side",
    "tile_clips",
    "to_uint8",
    "write_gif",
    "write_mp4",
    "write_png",
    "write_video",
]


def side_by_side(*clips, padding=2):
    """Joins clips of equal length horizontally into one uint8 clip: `tfvidgen.postprocess.side_by_side` as uint8."""
    lengths = {len(clip) for clip in clips}
    if len(lengths) > 1:
        raise ValueError(f"`side_by_side` needs clips of one length. Received lengths {sorted(lengths)}")
    # uint8 first: out-of-range values are clipped, as before, and the float round trip is exact.
    return to_uint8(_editing.side_by_side(*[to_uint8(clip) for clip in clips], padding=padding))

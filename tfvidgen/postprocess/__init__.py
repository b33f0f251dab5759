"""Post-processing of generated and real videos: frame interpolation, upscaling, editing, reading and writing.

The one home of video I/O (`tfvidgen.video_io` re-exports its names). RGB to
grey is `tfvidgen.frames.rgb_to_grey`, here as `rgb_to_grey`.

NumPy and OpenCV only (no TensorFlow). Clips are `(frames, height, width,
channels)`, float in [0, 1] (uint8 accepted), channels 1 or 3; functions return
float32 in [0, 1]. `process_video` streams a file of any length.

Example:

>>> from tfvidgen import postprocess
>>> smooth = postprocess.interpolate(clip, factor=4)            # optical flow
>>> large = postprocess.upscale(smooth, 4, sharpen=0.5)         # Lanczos
>>> postprocess.write_clip("out.mp4", large, fps=32)            # atomic
>>> postprocess.process_video("in.mp4", "out.mp4", interpolate=2, scale=2, trim=(0.5, 3.0))
"""

from tfvidgen.frames import rgb_to_grey
from tfvidgen.postprocess.clips import to_uint8
from tfvidgen.postprocess.editing import concat
from tfvidgen.postprocess.editing import fade
from tfvidgen.postprocess.editing import grid
from tfvidgen.postprocess.editing import loop
from tfvidgen.postprocess.editing import parse_span
from tfvidgen.postprocess.editing import side_by_side
from tfvidgen.postprocess.editing import speed
from tfvidgen.postprocess.editing import trim
from tfvidgen.postprocess.flow_interpolator import FlowInterpolator
from tfvidgen.postprocess.interpolation import INTERPOLATION_METHODS
from tfvidgen.postprocess.interpolation import interpolate
from tfvidgen.postprocess.interpolation import iter_interpolated
from tfvidgen.postprocess.interpolation import iter_resampled
from tfvidgen.postprocess.interpolation import retime
from tfvidgen.postprocess.model_interpolator import ModelInterpolator
from tfvidgen.postprocess.pipeline import process_clip
from tfvidgen.postprocess.pipeline import process_video
from tfvidgen.postprocess.quality import psnr
from tfvidgen.postprocess.quality import ssim
from tfvidgen.postprocess.reader import iter_frames
from tfvidgen.postprocess.reader import probe
from tfvidgen.postprocess.reader import read_clip
from tfvidgen.postprocess.reader import read_video
from tfvidgen.postprocess.scaling import UPSCALE_METHODS
from tfvidgen.postprocess.scaling import resize
from tfvidgen.postprocess.scaling import upscale
from tfvidgen.postprocess.stills import frame_strip_grid
from tfvidgen.postprocess.stills import png_bytes
from tfvidgen.postprocess.stills import prediction_grid
from tfvidgen.postprocess.stills import tile_clips
from tfvidgen.postprocess.stills import write_png
from tfvidgen.postprocess.writer import VideoWriter
from tfvidgen.postprocess.writer import gif_bytes
from tfvidgen.postprocess.writer import h264_available
from tfvidgen.postprocess.writer import write_clip
from tfvidgen.postprocess.writer import write_gif
from tfvidgen.postprocess.writer import write_mp4
from tfvidgen.postprocess.writer import write_video

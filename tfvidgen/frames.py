"""Frame geometry in NumPy/OpenCV, shared by `tfvidgen.data` and `tfvidgen.postprocess`.

No TensorFlow here: `tfvidgen.postprocess` and the video readers use it on
machines without TensorFlow.
"""

import cv2
import numpy as np

RESIZE_MODES = ("crop", "pad", "stretch")


def fit_box(source_size, target_size, mode):
    """Geometry of fitting a `source_size` frame into `target_size`.

    Args:
        source_size: `(height, width)` of the input frame.
        target_size: `(height, width)` wanted.
        mode: `"crop"` scales so the frame covers the target and crops the
            centre; `"pad"` scales so it fits inside and pads with black;
            `"stretch"` ignores the aspect ratio.

    Returns:
        `(scaled_height, scaled_width, offset_y, offset_x)`: the size to resize
        to, then the top-left offset of the crop (`"crop"`) or of the frame in
        the padded canvas (`"pad"`); offsets are 0 for `"stretch"`.
    """
    source_height, source_width = source_size
    target_height, target_width = target_size
    if mode == "stretch":
        return target_height, target_width, 0, 0
    scale_y, scale_x = target_height / source_height, target_width / source_width
    scale = max(scale_y, scale_x) if mode == "crop" else min(scale_y, scale_x)
    scaled_height = max(1, int(round(source_height * scale)))
    scaled_width = max(1, int(round(source_width * scale)))
    if mode == "crop":
        scaled_height, scaled_width = max(scaled_height, target_height), max(scaled_width, target_width)
        return scaled_height, scaled_width, (scaled_height - target_height) // 2, (scaled_width - target_width) // 2
    scaled_height, scaled_width = min(scaled_height, target_height), min(scaled_width, target_width)
    return scaled_height, scaled_width, (target_height - scaled_height) // 2, (target_width - scaled_width) // 2


def resize_frame_numpy(frame, target_size, mode="crop", interpolation=None):
    """Resizes one `(height, width[, channels])` frame with OpenCV.

    Args:
        frame: uint8 or float32 frame.
        target_size: `(height, width)`.
        mode: `"crop"`, `"pad"` or `"stretch"` (see `fit_box`).
        interpolation: an OpenCV flag; default `INTER_AREA` when shrinking,
            else `INTER_LINEAR`.
    """
    target_height, target_width = target_size
    scaled_height, scaled_width, offset_y, offset_x = fit_box(frame.shape[:2], target_size, mode)
    if interpolation is None:
        shrinking = scaled_height * scaled_width < frame.shape[0] * frame.shape[1]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(frame, (scaled_width, scaled_height), interpolation=interpolation)
    if resized.ndim == 2 and frame.ndim == 3:
        resized = resized[..., None]
    if mode == "crop":
        return resized[offset_y : offset_y + target_height, offset_x : offset_x + target_width]
    if mode == "pad":
        canvas = np.zeros((target_height, target_width) + resized.shape[2:], resized.dtype)
        canvas[offset_y : offset_y + scaled_height, offset_x : offset_x + scaled_width] = resized
        return canvas
    return resized

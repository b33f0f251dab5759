"""PSNR and SSIM of frames in NumPy/OpenCV, for post-processing without TensorFlow.

Same conventions as `tfvidgen.metrics` (values in [0, 1], SSIM with an 11x11
Gaussian window of sigma 1.5, averaged over pixels and channels), per frame.
"""

import cv2
import numpy as np

from tfvidgen.postprocess import clips as clips_lib


def _pair(truth, estimate):
    truth, estimate = clips_lib.as_clip(truth, "truth"), clips_lib.as_clip(estimate, "estimate")
    if truth.shape != estimate.shape:
        raise ValueError(f"`truth` {truth.shape} and `estimate` {estimate.shape} must have one shape.")
    return truth.astype(np.float64), estimate.astype(np.float64)


def psnr(truth, estimate, max_db=100.0):
    """Per-frame PSNR in dB of two clips `(frames, H, W, C)` (capped at `max_db` for equal frames)."""
    truth, estimate = _pair(truth, estimate)
    mse = np.mean(np.square(truth - estimate), axis=(1, 2, 3))
    return np.minimum(10.0 * np.log10(1.0 / np.maximum(mse, 1e-30)), max_db)


def ssim(truth, estimate):
    """Per-frame SSIM of two clips (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, as `tf.image.ssim`)."""
    truth, estimate = _pair(truth, estimate)
    c1, c2 = 0.01**2, 0.03**2

    def blur(image):
        return cv2.GaussianBlur(image, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT).reshape(image.shape)

    scores = []
    for x, y in zip(truth, estimate):
        mu_x, mu_y = blur(x), blur(y)
        sigma_x = blur(x * x) - mu_x**2
        sigma_y = blur(y * y) - mu_y**2
        sigma_xy = blur(x * y) - mu_x * mu_y
        numerator = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
        denominator = (mu_x**2 + mu_y**2 + c1) * (sigma_x + sigma_y + c2)
        ratio = numerator / denominator
        if min(ratio.shape[:2]) > 10:  # tf.image.ssim's 'VALID' window: no border pixels.
            ratio = ratio[5:-5, 5:-5]
        scores.append(float(np.mean(ratio)))
    return np.asarray(scores)

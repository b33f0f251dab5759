"""Digit images for Moving MNIST: built-in OpenCV glyphs or real MNIST digits.

The glyph bank needs no download: every digit 0-9 is drawn with OpenCV's Hershey
fonts at several weights, slants and rotations, then normalised the way MNIST was
(fitted into a 20x20 box and centred by its centre of mass in a 28x28 image).
A fifth of the variants is held out for the validation and test splits, so
held-out clips show renderings the model never saw.
"""

import functools
import os

import cv2
import numpy as np

from tfvidgen import validation

DIGIT_SOURCES = ("glyphs", "mnist")
SPLITS = ("train", "validation", "test")

_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_PLAIN,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_COMPLEX_SMALL,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
)
# Weight and slant are applied with morphology and a shear rather than putText's
# `thickness` and FONT_ITALIC, which some OpenCV builds (5.x) ignore.
_SHEARS = (0.0, 0.3)
_WEIGHTS = (-1, 1, 3)
_ROTATIONS = (-12.0, 0.0, 12.0)
_RENDER_SIZE = 112
_HELD_OUT_EVERY = 5


def _mnist_normalise(image):
    """Fits the ink into 20x20 (keeping aspect) and centres its mass in 28x28."""
    ys, xs = np.nonzero(image > 16)
    if len(ys) == 0:
        return None
    crop = image[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = 20.0 / max(crop.shape)
    height = max(1, int(round(crop.shape[0] * scale)))
    width = max(1, int(round(crop.shape[1] * scale)))
    crop = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((28, 28), np.float32)
    top, left = (28 - height) // 2, (28 - width) // 2
    canvas[top : top + height, left : left + width] = crop
    total = canvas.sum()
    grid_y, grid_x = np.mgrid[0:28, 0:28]
    shift_y = 13.5 - (grid_y * canvas).sum() / total
    shift_x = 13.5 - (grid_x * canvas).sum() / total
    matrix = np.float32([[1, 0, shift_x], [0, 1, shift_y]])
    canvas = cv2.warpAffine(canvas, matrix, (28, 28), flags=cv2.INTER_LINEAR)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def _render_glyph(digit, font, weight, shear, rotation):
    canvas = np.zeros((_RENDER_SIZE, _RENDER_SIZE), np.uint8)
    text = str(digit)
    scale = 3.0 if font != cv2.FONT_HERSHEY_PLAIN else 6.0
    (text_width, text_height), _ = cv2.getTextSize(text, font, scale, 4)
    origin = ((_RENDER_SIZE - text_width) // 2, (_RENDER_SIZE + text_height) // 2)
    cv2.putText(canvas, text, origin, font, scale, 255, 4, cv2.LINE_AA)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    if weight > 0:
        canvas = cv2.dilate(canvas, kernel, iterations=weight)
    elif weight < 0:
        canvas = cv2.erode(canvas, kernel, iterations=-weight)
    center = (_RENDER_SIZE / 2, _RENDER_SIZE / 2)
    matrix = cv2.getRotationMatrix2D(center, rotation, 1.0)
    matrix[0, 1] -= shear
    matrix[0, 2] += shear * center[1]
    canvas = cv2.warpAffine(canvas, matrix, (_RENDER_SIZE, _RENDER_SIZE), flags=cv2.INTER_LINEAR)
    return _mnist_normalise(canvas)


@functools.lru_cache(maxsize=None)
def _glyph_bank():
    images, labels, variants, seen = [], [], [], set()
    for digit in range(10):
        variant = 0
        for font in _FONTS:
            for shear in _SHEARS:
                for weight in _WEIGHTS:
                    for rotation in _ROTATIONS:
                        image = _render_glyph(digit, font, weight, shear, rotation)
                        # Some OpenCV builds draw two Hershey faces alike: keep
                        # one copy so no image sits in both splits.
                        if image is not None and image.tobytes() not in seen:
                            seen.add(image.tobytes())
                            images.append(image)
                            labels.append(digit)
                            variants.append(variant)
                        variant += 1
    images = np.stack(images)
    images.setflags(write=False)
    return images, np.asarray(labels, np.int32), np.asarray(variants, np.int32)


def glyph_digits(split="train"):
    """Built-in digit images rendered with OpenCV fonts (no download).

    Args:
        split: `"train"` for the training variants, `"validation"` or `"test"`
            for the held-out fifth of the font/weight/rotation variants.

    Returns:
        `(images, labels)`: uint8 `(N, 28, 28)` with white ink on black, and
        int32 `(N,)` digit labels.
    """
    validation.one_of("split", split, SPLITS)
    images, labels, variants = _glyph_bank()
    held_out = variants % _HELD_OUT_EVERY == 0
    keep = ~held_out if split == "train" else held_out
    return images[keep], labels[keep]


def _default_mnist_path():
    return os.path.join(os.path.expanduser("~"), ".keras", "datasets", "mnist.npz")


def mnist_digits(split="train", path=None, download=False):
    """Real MNIST digits from a local `mnist.npz` (Keras' format).

    Args:
        split: `"train"` uses MNIST's training digits; `"validation"` and
            `"test"` use its test digits.
        path: a local `mnist.npz` with `x_train`, `y_train`, `x_test`, `y_test`.
            Defaults to Keras' cache, `~/.keras/datasets/mnist.npz`.
        download: when the file is missing, let Keras download it (needs
            internet access).

    Returns:
        `(images, labels)`: uint8 `(N, 28, 28)` and int32 `(N,)`.
    """
    validation.one_of("split", split, SPLITS)
    path = os.path.expanduser(path) if path else _default_mnist_path()
    if not os.path.exists(path):
        if not download:
            raise FileNotFoundError(
                f"MNIST digits were requested but {path!r} does not exist. Either point "
                "`mnist_path` at a local mnist.npz (Keras' format, from "
                "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz), "
                "pass `download=True` on a machine with internet access, or use the "
                "built-in offline digits with digits='glyphs'."
            )
        import keras

        try:
            keras.datasets.mnist.load_data(path=os.path.abspath(path))
        except Exception as error:  # The network is the usual culprit.
            raise RuntimeError(
                f"Could not download MNIST to {path!r} ({error}). Copy mnist.npz there "
                "by hand or use digits='glyphs', which needs no download."
            ) from error
    with np.load(path) as archive:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(archive.files)
        if missing:
            raise ValueError(
                f"{path!r} is not a Keras mnist.npz: missing arrays {sorted(missing)}; found {sorted(archive.files)}."
            )
        prefix = "train" if split == "train" else "test"
        images = np.asarray(archive[f"x_{prefix}"], np.uint8)
        labels = np.asarray(archive[f"y_{prefix}"], np.int32)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{path!r}: expected x_{prefix} of shape (N, 28, 28), got {images.shape}.")
    return images, labels

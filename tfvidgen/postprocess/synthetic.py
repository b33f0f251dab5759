"""Rendered stand-in for camera footage: a camera pan over a photo-like scene with moving objects.

The package ships no camera video and downloads nothing, so the
post-processing tests and `benchmarks/postprocess.py` render footage: a 1/f
("pink") noise landscape with hard-edged shapes and a lighting gradient (the
statistics of natural images), seen through a camera panning at sub-pixel
speed, with textured objects moving across it at their own velocities, so
there is parallax and occlusion as in real footage.
"""

import cv2
import numpy as np


def _pink_noise(rng, height, width, channels):
    """1/f noise: the power spectrum of natural images."""
    spectrum = rng.standard_normal((channels, height, width)) + 1j * rng.standard_normal((channels, height, width))
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    amplitude = 1.0 / np.maximum(np.hypot(fx, fy), 1.0 / max(height, width))
    image = np.ascontiguousarray(np.real(np.fft.ifft2(spectrum * amplitude)).transpose(1, 2, 0))
    image = (image - image.min()) / (image.max() - image.min())
    return image.astype(np.float32)


def _scene(rng, height, width):
    # Mostly luminance structure with a little colour, as in photographs.
    luminance = _pink_noise(rng, height, width, 1)
    tint = rng.uniform(0.6, 1.0, 3).astype(np.float32)
    scene = 0.85 * luminance * tint + 0.25 * _pink_noise(rng, height, width, 3) - 0.05
    scene *= np.linspace(0.75, 1.15, width, dtype=np.float32)[None, :, None]  # Lighting gradient.
    for _ in range(max(4, height * width // 20000)):  # Hard edges: buildings, signs, leaves.
        color = rng.uniform(0.05, 0.95, 3).tolist()
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if rng.random() < 0.5:
            size = rng.integers(8, max(9, height // 6), 2)
            cv2.rectangle(scene, (x, y), (x + int(size[0]), y + int(size[1])), color, -1, cv2.LINE_AA)
        else:
            cv2.circle(scene, (x, y), int(rng.integers(5, max(6, height // 10))), color, -1, cv2.LINE_AA)
    return np.clip(scene, 0.0, 1.0)


def render_footage(num_frames=48, height=360, width=640, pan=(3.0, 0.7), num_objects=3, seed=0):
    """Renders `(num_frames, height, width, 3)` float32 footage in [0, 1].

    Args:
        pan: camera motion in pixels per frame `(x, y)`, sub-pixel allowed.
        num_objects: textured objects moving at 2-8 pixels per frame (scaled
            with the frame width), in front of the scene.
        seed: the scene and the objects' paths.
    """
    rng = np.random.default_rng(seed)
    pan_x, pan_y = pan
    margin_x = int(np.ceil(abs(pan_x) * num_frames)) + 2
    margin_y = int(np.ceil(abs(pan_y) * num_frames)) + 2
    scene = _scene(rng, height + margin_y, width + margin_x)
    objects = []
    for _ in range(num_objects):
        radius = int(rng.integers(height // 12, height // 6 + 1))
        texture = _pink_noise(rng, 2 * radius, 2 * radius, 3) * 0.6 + rng.uniform(0.1, 0.4, 3).astype(np.float32)
        mask = np.zeros((2 * radius, 2 * radius), np.float32)
        cv2.ellipse(
            mask, (radius, radius), (radius - 1, int(radius * 0.7)), rng.uniform(0, 180), 0, 360, 1.0, -1, cv2.LINE_AA
        )
        start = rng.uniform([0, 0], [width - 2 * radius, height - 2 * radius])
        velocity = rng.uniform(-1, 1, 2) * width / 640 * rng.uniform(2, 8)
        objects.append((np.clip(texture, 0, 1), mask[..., None], start, velocity))
    frames = []
    for index in range(num_frames):
        offset_x = margin_x / 2 + pan_x * (index - num_frames / 2)
        offset_y = margin_y / 2 + pan_y * (index - num_frames / 2)
        shift = np.float32([[1, 0, -offset_x], [0, 1, -offset_y]])
        frame = cv2.warpAffine(scene, shift, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        for texture, mask, start, velocity in objects:
            x, y = start + velocity * index
            placement = np.float32([[1, 0, x], [0, 1, y]])
            layer = cv2.warpAffine(texture, placement, (width, height), flags=cv2.INTER_LINEAR)
            alpha = cv2.warpAffine(mask, placement, (width, height), flags=cv2.INTER_LINEAR)[..., None]
            frame = alpha * layer + (1.0 - alpha) * frame
        frames.append(frame)
    return np.clip(np.stack(frames), 0.0, 1.0).astype(np.float32)

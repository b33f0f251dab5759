"""Line charts drawn with OpenCV, so reports need no plotting library."""

import cv2
import numpy as np

from tfvidgen import video_io

_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]


def line_chart(curves, title="", x_label="frame", width=420, height=300, x_values=None):
    """Renders `{label: [y1, y2, ...]}` as an RGB uint8 image; x is 1, 2, ... or the labels in `x_values`."""
    image = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 56, 12, 28, 40
    values = np.concatenate([np.asarray(curve, np.float64) for curve in curves.values()])
    values = values[np.isfinite(values)]
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    margin = 0.05 * (high - low)
    low, high = low - margin, high + margin
    length = max(len(curve) for curve in curves.values())

    def point(index, value):
        x = left + (index / max(length - 1, 1)) * (width - left - right)
        y = top + (1.0 - (value - low) / (high - low)) * (height - top - bottom)
        return int(round(x)), int(round(y))

    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.rectangle(image, (left, top), (width - right, height - bottom), (0, 0, 0), 1)
    for fraction in np.linspace(0.0, 1.0, 5):
        value = low + fraction * (high - low)
        _, y = point(0, value)
        cv2.line(image, (left - 4, y), (left, y), (0, 0, 0), 1)
        cv2.putText(image, f"{value:.3g}", (2, y + 4), font, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    for index in range(length):
        x, _ = point(index, low)
        cv2.line(image, (x, height - bottom), (x, height - bottom + 4), (0, 0, 0), 1)
        if length <= 12 or index % max(1, length // 10) == 0:
            tick = str(index + 1) if x_values is None else f"{x_values[index]:g}"
            cv2.putText(image, tick, (x - 4, height - bottom + 16), font, 0.35, (0, 0, 0), 1)
    cv2.putText(image, x_label, (width // 2 - 16, height - 6), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(image, title, (left, 18), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    for number, (label, curve) in enumerate(curves.items()):
        color = _COLORS[number % len(_COLORS)]
        points = [point(index, value) for index, value in enumerate(curve) if np.isfinite(value)]
        for start, end in zip(points, points[1:]):
            cv2.line(image, start, end, color, 2, cv2.LINE_AA)
        for center in points:
            cv2.circle(image, center, 2, color, -1)
        legend_y = top + 14 + 14 * number
        cv2.line(image, (width - right - 130, legend_y - 4), (width - right - 112, legend_y - 4), color, 2)
        cv2.putText(image, label, (width - right - 108, legend_y), font, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    return image


def plot_per_frame(path, results, metrics=("mse", "mae", "psnr", "ssim")):
    """Writes a 2x2 PNG of the per-frame curves of `evaluate_predictions` results."""
    series = [name for name in results if isinstance(results[name], dict) and "per_frame" in results[name]]
    panels = [
        line_chart({name: results[name]["per_frame"][metric] for name in series}, title=metric.upper())
        for metric in metrics
    ]
    while len(panels) % 2:
        panels.append(np.full_like(panels[0], 255))
    rows = [np.concatenate(panels[index : index + 2], axis=1) for index in range(0, len(panels), 2)]
    return video_io.write_png(path, np.concatenate(rows, axis=0))

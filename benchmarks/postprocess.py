"""Post-processing quality and speed: frame interpolation and upscaling, side by side.

    python benchmarks/postprocess.py [--learned runs/interp-cpu_small/model.keras ...] [--out FILE.json]
    python benchmarks/postprocess.py --write-training-footage runs/footage   # the cpu_rgb training clips

1. Frame interpolation, drop every other frame and rebuild it: PSNR and SSIM of
   the rebuilt frames against the dropped ones, for frame repetition, linear
   blending, optical flow (`tfvidgen.postprocess.FlowInterpolator`) and, with
   `--learned`, a trained `FrameInterpolator` (one .keras file per frame size;
   each is scored on the data of its frame size). Data: rendered 640x360
   camera footage (`tfvidgen.postprocess.synthetic`: a pan over a photo-like
   scene with moving objects; the project ships no camera video), the same at
   64x64 (area-downscaled) and held-out Moving MNIST (64x64, test split).
2. Throughput at 640x360 on this machine's cores: `process_video` with 2x
   interpolation from an MP4 to an MP4 (decode, flow, encode), in output
   frames/s, and the flow interpolation alone in synthesised frames/s.
3. Upscaling: 4x-downscaled footage (area) upscaled back by nearest, bilinear,
   bicubic, Lanczos and Lanczos + sharpening: PSNR and SSIM.
"""

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np

from tfvidgen import postprocess
from tfvidgen.postprocess import synthetic

FOOTAGE = {  # name: render_footage arguments (24 fps, 640x360)
    "pan 3 px/frame + 3 objects": dict(pan=(3.0, 0.7), num_objects=3, seed=0),
    "pan 8 px/frame + 4 objects": dict(pan=(8.0, -1.5), num_objects=4, seed=1),
    "static camera + 5 objects": dict(pan=(0.0, 0.0), num_objects=5, seed=2),
}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def learned_interpolator(path):
    """A trained `FrameInterpolator` (.keras) behind `FlowInterpolator`'s interface."""
    import keras

    import tfvidgen.models  # noqa: F401  (registers the classes)

    return postprocess.ModelInterpolator(keras.models.load_model(path))


def rebuild_scores(clips, method, interpolator=None):
    """Mean PSNR/SSIM of the odd frames rebuilt from the even ones, over clips."""
    psnrs, ssims = [], []
    for clip in clips:
        even, odd = clip[0::2], clip[1::2]
        odd = odd[: len(even) - 1]  # Odd frames with a neighbour on each side.
        rebuilt = postprocess.interpolate(even, 2, method=method, interpolator=interpolator)[1::2]
        psnrs.append(postprocess.psnr(odd, rebuilt))
        ssims.append(postprocess.ssim(odd, rebuilt))
    return {"psnr": float(np.mean(np.concatenate(psnrs))), "ssim": float(np.mean(np.concatenate(ssims)))}


def moving_mnist_clips(num_clips, seed):
    from tfvidgen import data

    dataset = data.moving_mnist(num_clips=num_clips, num_frames=20, frame_size=64, split="test", seed=seed)
    return [clip for clip in dataset.as_numpy_iterator()]


def downscale(clip, size):
    import cv2

    height, width = size
    side = min(clip.shape[1], clip.shape[2])  # Centre square, then area-downscale.
    top, left = (clip.shape[1] - side) // 2, (clip.shape[2] - side) // 2
    frames = [
        cv2.resize(frame[top : top + side, left : left + side], (width, height), interpolation=cv2.INTER_AREA)
        for frame in clip
    ]
    return np.stack(frames).reshape(len(frames), height, width, -1)


def interpolation_table(datasets, learned):
    rows = {}
    for name, clips in datasets.items():
        row = {}
        for method in postprocess.INTERPOLATION_METHODS:
            row[method] = rebuild_scores(clips, method)
        frame_shape = clips[0].shape[1:]
        for path, interpolator in learned.items():
            if interpolator.frame_shape == frame_shape:
                row[f"learned ({os.path.basename(os.path.dirname(path)) or path})"] = rebuild_scores(
                    clips, "flow", interpolator
                )
        rows[name] = row
        print(
            f"  {name}: " + ", ".join(f"{k} {v['psnr']:.2f} dB / {v['ssim']:.3f}" for k, v in row.items()), flush=True
        )
    return rows


def throughput(num_frames=96):
    footage = synthetic.render_footage(num_frames=num_frames, height=360, width=640, seed=3)
    with tempfile.TemporaryDirectory() as directory:
        source = postprocess.write_clip(os.path.join(directory, "in.mp4"), footage, fps=24)
        postprocess.process_video(source, os.path.join(directory, "warm.mp4"), interpolate=2, trim=(0, 0.5))
        result = postprocess.process_video(source, os.path.join(directory, "out.mp4"), interpolate=2)
    uint8 = np.round(footage * 255).astype(np.uint8)
    interpolator = postprocess.FlowInterpolator()
    start = time.perf_counter()
    for frame_a, frame_b in zip(uint8[:-1], uint8[1:]):
        interpolator.interpolate(frame_a, frame_b)
    flow_seconds = time.perf_counter() - start
    return {
        "process_video_2x_output_frames_per_second": result["output_frames"] / result["seconds"],
        "process_video": result,
        "flow_middle_frames_per_second": (len(uint8) - 1) / flow_seconds,
    }


def upscaling_table(num_frames=8):
    import cv2

    rows = {}
    for name, arguments in FOOTAGE.items():
        truth = synthetic.render_footage(num_frames=num_frames, height=360, width=640, **arguments)
        small = np.stack([cv2.resize(frame, (160, 90), interpolation=cv2.INTER_AREA) for frame in truth])
        row = {}
        for label, method, sharpen in (
            ("nearest", "nearest", 0.0),
            ("bilinear", "bilinear", 0.0),
            ("bicubic", "bicubic", 0.0),
            ("lanczos", "lanczos", 0.0),
            ("lanczos + sharpen 0.5", "lanczos", 0.5),
        ):
            large = postprocess.upscale(small, 4, method=method, sharpen=sharpen)
            row[label] = {
                "psnr": float(postprocess.psnr(truth, large).mean()),
                "ssim": float(postprocess.ssim(truth, large).mean()),
            }
        rows[name] = row
        print(f"  {name}: " + ", ".join(f"{k} {v['psnr']:.2f} dB" for k, v in row.items()), flush=True)
    return rows


def write_training_footage(directory, count=40, seed=100):
    """The rendered clips `FrameInterpolator`'s `cpu_rgb` reference was trained on (none of the benchmark's seeds)."""
    rng = np.random.default_rng(seed)
    for index in range(count):
        pan = (float(rng.uniform(-8, 8)), float(rng.uniform(-2, 2)))
        num_objects = int(rng.integers(1, 6))
        clip = synthetic.render_footage(
            num_frames=24, height=360, width=640, pan=pan, num_objects=num_objects, seed=seed + index
        )
        postprocess.write_clip(os.path.join(directory, f"footage_{index:03d}.mp4"), clip, fps=24)
    print(f"wrote {count} clips to {directory}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-training-footage", metavar="DIR", help="only write the cpu_rgb training clips")
    parser.add_argument("--learned", action="append", default=[], help="a trained FrameInterpolator .keras file")
    parser.add_argument("--footage-frames", type=int, default=48)
    parser.add_argument("--mnist-clips", type=int, default=64)
    parser.add_argument("--out", help="write the figures as JSON")
    args = parser.parse_args()
    if args.write_training_footage:
        return write_training_footage(args.write_training_footage)
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; OpenCV threads: {__import__('cv2').getNumThreads()}")
    learned = {path: learned_interpolator(path) for path in args.learned}

    print("1. Frame interpolation (every other frame dropped and rebuilt): PSNR dB / SSIM", flush=True)
    footage = {
        name: [synthetic.render_footage(num_frames=args.footage_frames, **arguments)]
        for name, arguments in FOOTAGE.items()
    }
    datasets = {f"footage 640x360, {name}": clips for name, clips in footage.items()}
    for name, clips in footage.items():
        for frame_shape in {interpolator.frame_shape for interpolator in learned.values()} | {(64, 64, 3)}:
            if frame_shape[2] == 3:
                datasets[f"footage {frame_shape[0]}x{frame_shape[1]}, {name}"] = [
                    downscale(clip, frame_shape[:2]) for clip in clips
                ]
    datasets["Moving MNIST 64x64, test split"] = moving_mnist_clips(args.mnist_clips, seed=0)
    results = {"cpu": cpu_name(), "interpolation": interpolation_table(datasets, learned)}

    print("2. Throughput at 640x360, 2x interpolation", flush=True)
    results["throughput"] = throughput()
    print(
        f"  process_video (decode + flow + encode): "
        f"{results['throughput']['process_video_2x_output_frames_per_second']:.1f} output frames/s; "
        f"flow interpolation alone: {results['throughput']['flow_middle_frames_per_second']:.1f} middle frames/s"
    )

    print("3. Upscaling 4x from 160x90 back to 640x360: PSNR dB", flush=True)
    results["upscaling"] = upscaling_table()
    if args.out:
        with open(args.out, "w") as file:
            json.dump(results, file, indent=2)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Batch-1 latency on this machine after warm-up, printed as one JSON line.

    python -m ml.bench [--repeats 200]

Times Classifier.predict (preprocess + compiled forward pass + calibration + OOD check) and
Classifier.analyse (the same plus Grad-CAM), cycling through 40 validation images (synthetic
slices without the data).
"""

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np

from ml import config

BENCH_IMAGES = 40


def synthetic_slice(size: int = 512, seed: int = 0) -> np.ndarray:
    """A uint8 (size, size) head-like picture (bright ellipse with texture on black) for timing."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    head = ((xx - 0.5) / 0.38) ** 2 + ((yy - 0.5) / 0.45) ** 2 < 1.0
    picture = np.where(head, 90 + 40 * np.sin(xx * 40) * np.cos(yy * 30), 0) + rng.normal(0, 5, (size, size))
    return np.clip(picture, 0, 255).astype(np.uint8)


def bench_images(count: int = BENCH_IMAGES) -> list[np.ndarray]:
    """`count` validation images spread evenly over the split (all classes, all sizes) when the
    data is present, else synthetic slices. Several images, because the preprocessing
    cost depends on the picture's size."""
    from ml.data import decode_image_file, read_split

    try:
        validation = read_split()["validation"]
        chosen = validation[:: max(1, len(validation) // count)][:count]
        return [decode_image_file(config.training_images_dir() / relative) for relative in chosen]
    except (OSError, ValueError, KeyError):
        return [synthetic_slice(seed=seed) for seed in range(count)]


def peak_rss_megabytes() -> float:
    """This process's peak resident memory. VmHWM belongs to the running program only, whereas
    ru_maxrss survives exec: started from a big parent (python -m ml.model_card), it reports the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def percentiles(samples: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(samples, 50)), 3), "p95": round(float(np.percentile(samples, 95)), 3)}


def bench(repeats: int = 200, warm_up: int = 20) -> dict:
    import tensorflow as tf

    from ml.inference import Classifier

    started = time.perf_counter()
    classifier = Classifier.load()
    load_ms = (time.perf_counter() - started) * 1000.0
    images = bench_images()
    timings: dict[str, list[float]] = {"predict": [], "predict_gradcam": []}
    for name, call in (("predict", classifier.predict), ("predict_gradcam", classifier.analyse)):
        for number in range(warm_up):
            call(images[number % len(images)])
        for number in range(repeats):
            image = images[number % len(images)]
            started = time.perf_counter()
            call(image)
            timings[name].append((time.perf_counter() - started) * 1000.0)
    peak_rss_mb = peak_rss_megabytes()
    return {
        "model_version": classifier.model_version,
        "images": len(images),
        "image_shapes": sorted({"x".join(map(str, image.shape)) for image in images}),
        "repeats": repeats,
        "predict_ms": percentiles(timings["predict"]),
        "predict_gradcam_ms": percentiles(timings["predict_gradcam"]),
        "model_load_ms": round(load_ms, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
        # Other processes on the same two cores inflate every number above; this says how busy they were.
        "load_average_1min": round(os.getloadavg()[0], 2),
        "threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=200)
    arguments = parser.parse_args(argv)
    from ml.runtime import configure_tensorflow

    configure_tensorflow()
    print(json.dumps(bench(arguments.repeats)))


if __name__ == "__main__":
    main()

"""Grad-CAM for image files.

    python -m ml.explain IMAGE... --out DIR

For each image writes <stem>_overlay.png (RGB heat-map overlay) and <stem>_heatmap.npy
(float32 heat map at the image's own size, values in [0, 1]) and prints one JSON line with
the classification result. Unreadable files print a JSON line with an "error" instead.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument("--class-name", default=None, help="explain this class instead of the predicted one")
    parser.add_argument("--weights-dir", type=Path, default=None)
    arguments = parser.parse_args(argv)

    from ml.evaluate import load_any_image
    from ml.inference import Classifier
    from ml.runtime import configure_tensorflow

    configure_tensorflow()
    classifier = Classifier.load(arguments.weights_dir)
    arguments.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in arguments.images:
        try:
            image = load_any_image(path)
            result, explanation = classifier.analyse(image)
            if explanation is None or arguments.class_name:  # asked for a heat map, it draws one even over a refusal
                explanation = classifier.explain(image, arguments.class_name)
        except (ValueError, OSError) as error:
            failures += 1
            print(json.dumps({"image": str(path), "error": str(error)}), flush=True)
            continue
        overlay_path = arguments.out / f"{path.stem}_overlay.png"
        heatmap_path = arguments.out / f"{path.stem}_heatmap.npy"
        Image.fromarray(explanation.overlay).save(overlay_path)
        np.save(heatmap_path, explanation.heatmap)
        line = {"image": str(path), **result.to_dict(), "explained_class": explanation.class_name, "overlay": str(overlay_path), "heatmap": str(heatmap_path)}
        print(json.dumps(line), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

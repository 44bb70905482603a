"""Out-of-fold predictions over the training split: a worklist of training labels worth a second look.

    python -m ml.label_review --folds 4 --epochs 10

A model memorises its own training labels, so it cannot point at their errors. Here the
training split is cut into k folds by duplicate group (a picture and its copies stay in one fold,
each class spread evenly); for each fold a network of the product's design, trained on the other
folds with the product's recipe (shorter), predicts the held-out fold. Duplicate groups whose
given label gets a low out-of-fold probability are written, most doubtful first, to
ml/artifacts/label_review_candidates.json, with a picture of the first ones.

Nothing is relabelled or dropped: it is a list for a qualified reader. Each fold's predictions are
saved under ml/.cache/label_review/ as soon as it ends, so a cut-off run resumes where it stopped.
"""

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from ml import config

OUTPUT_FILE = config.ARTIFACTS_DIR / "label_review_candidates.json"  # the picture goes beside it, as .jpg
WORK_DIR = config.CACHE_DIR / "label_review"
# A group is listed when the out-of-fold probability of its given label is below this (mean over its files).
DEFAULT_THRESHOLD = 0.1


def group_folds(labels: np.ndarray, groups: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """(N,) class indices and duplicate-group ids -> (N,) fold index; groups whole, classes balanced."""
    from sklearn.model_selection import StratifiedGroupKFold

    fold_of = np.empty(len(labels), dtype=int)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (_, held_out) in enumerate(splitter.split(np.zeros(len(labels)), labels, groups)):
        fold_of[held_out] = fold
    return fold_of


def doubtful_groups(paths: np.ndarray, labels: np.ndarray, groups: np.ndarray, probabilities: np.ndarray, threshold: float) -> list[dict]:
    """Groups whose mean out-of-fold probability of the given label is below `threshold`, lowest first."""
    members = defaultdict(list)
    for index, group in enumerate(groups):
        members[int(group)].append(index)
    listed = []
    for group, indices in members.items():
        mean = probabilities[indices].mean(axis=0)  # (K,)
        label = int(labels[indices[0]])
        if mean[label] < threshold:
            listed.append(
                {
                    "group_id": group,
                    "files": sorted(str(paths[index]) for index in indices),
                    "label": config.CLASS_NAMES[label],
                    "predicted": config.CLASS_NAMES[int(np.argmax(mean))],
                    "probability_of_label": round(float(mean[label]), 4),
                    "probabilities": {name: round(float(value), 4) for name, value in zip(config.CLASS_NAMES, mean)},
                }
            )
    return sorted(listed, key=lambda entry: (entry["probability_of_label"], entry["group_id"]))


def out_of_fold_probabilities(
    images: np.ndarray, labels: np.ndarray, train_index: np.ndarray, held_out_index: np.ndarray, epochs: int, seed: int, tissue_contrast_probability: float = 0.0
) -> np.ndarray:
    """Train on `train_index`, return (len(held_out_index), K) softmax probabilities for the held-out images."""
    import keras

    from ml.calibrate import network_outputs
    from ml.calibration import softmax
    from ml.model import build_model
    from ml.train import compile_model, make_datasets

    keras.utils.set_random_seed(seed)
    training, held_out = make_datasets(images, labels, train_index, held_out_index, config.BATCH_SIZE, seed, tissue_contrast_probability)
    model = build_model(images.shape[1])
    compile_model(model, max(1, len(train_index) // config.BATCH_SIZE), epochs, learning_rate=2e-3)
    model.fit(training, validation_data=held_out, epochs=epochs, verbose=2, callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    model.optimizer.finalize_variable_values(model.trainable_variables)  # predict with the averaged weights, as validation did
    logits, _ = network_outputs(model, images[held_out_index].astype(np.float32) / 255.0)
    return softmax(logits)


def plot_candidates(entries: list[dict], path: Path, count: int = 30) -> None:
    """The first `count` groups' first file, labelled 'given -> out-of-fold', as one JPEG."""
    import cv2

    from ml.data import decode_image_file
    from ml.preprocess import preprocess

    tiles = []
    for entry in entries[:count]:
        picture = np.round(preprocess(decode_image_file(config.training_images_dir() / entry["files"][0]), 160) * 255).astype(np.uint8)
        tile = cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR)
        caption = f"{entry['label'][:4]}>{entry['predicted'][:4]} {entry['probability_of_label']:.2f}"
        cv2.putText(tile, caption, (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 255, 255), 1)
        tiles.append(tile)
    if not tiles:
        return
    while len(tiles) % 6:
        tiles.append(np.zeros_like(tiles[0]))
    cv2.imwrite(str(path), np.vstack([np.hstack(tiles[start : start + 6]) for start in range(0, len(tiles), 6)]), [cv2.IMWRITE_JPEG_QUALITY, 90])


def review(folds: int, epochs: int, threshold: float, tissue_contrast_probability: float = 0.0, seed: int = config.SEED) -> dict:
    from ml.data import default_cache_file, load_cache, read_duplicate_groups, read_split
    from ml.train import split_indices

    cache = load_cache(config.training_images_dir(), config.duplicate_groups_file(), config.IMAGE_SIZE, default_cache_file(config.IMAGE_SIZE))
    training_index, _ = split_indices(cache["paths"], read_split()["validation"])
    group_of = {f"{row['class_folder']}/{row['file_name']}": int(row["group_id"]) for row in read_duplicate_groups(config.duplicate_groups_file())}
    paths, labels = cache["paths"][training_index], cache["labels"][training_index]
    groups = np.array([group_of[str(path)] for path in paths])
    fold_of = group_folds(labels, groups, folds, seed)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    probabilities = np.zeros((len(paths), len(config.CLASS_NAMES)))
    for fold in range(folds):
        saved = WORK_DIR / f"fold_{fold}_of_{folds}_epochs_{epochs}_contrast_{tissue_contrast_probability:g}.npz"
        held_out = np.flatnonzero(fold_of == fold)
        if saved.exists():
            print(f"fold {fold + 1}/{folds}: reusing {saved}", file=sys.stderr, flush=True)
        else:
            started = time.monotonic()
            print(f"fold {fold + 1}/{folds}: training on {len(paths) - len(held_out)}, predicting {len(held_out)}", file=sys.stderr, flush=True)
            fold_probabilities = out_of_fold_probabilities(
                cache["images"], cache["labels"], training_index[fold_of != fold], training_index[held_out], epochs, seed + fold, tissue_contrast_probability
            )
            np.savez(saved, held_out=held_out, probabilities=fold_probabilities)
            print(f"fold {fold + 1}/{folds}: done in {(time.monotonic() - started) / 60:.1f} min", file=sys.stderr, flush=True)
        with np.load(saved) as arrays:
            probabilities[arrays["held_out"]] = arrays["probabilities"]
    entries = doubtful_groups(paths, labels, groups, probabilities, threshold)
    return {
        "how": f"{folds}-fold out-of-fold predictions over the training split (folds by duplicate group, stratified by class, seed {seed}); "
        f"each fold's network: the product architecture and recipe, {epochs} epochs, tissue-contrast probability {tissue_contrast_probability:g}, EMA weights, mirror rule, softmax without temperature",
        "reviewed": False,
        "n_training_files": len(paths),
        "out_of_fold_accuracy": float(np.mean(probabilities.argmax(axis=1) == labels)),
        "threshold": threshold,
        "n_groups_listed": len(entries),
        "n_files_listed": sum(len(entry["files"]) for entry in entries),
        "groups": entries,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="list groups whose given label's out-of-fold probability is below this")
    parser.add_argument("--tissue-contrast-probability", type=float, default=0.0, help="train the fold models with the second reader's recipe (0.1)")
    parser.add_argument("--output", type=Path, default=OUTPUT_FILE, help="the JSON list; the picture is written beside it as .jpg")
    arguments = parser.parse_args(argv)
    from ml.train import configure_tensorflow

    configure_tensorflow()
    result = review(arguments.folds, arguments.epochs, arguments.threshold, arguments.tissue_contrast_probability)
    arguments.output.write_text(json.dumps(result, indent=1) + "\n")
    plot_candidates(result["groups"], arguments.output.with_suffix(".jpg"))
    print(json.dumps({key: value for key, value in result.items() if key != "groups"}))


if __name__ == "__main__":
    main()

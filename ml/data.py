"""Dataset index, the duplicate-group-aware validation split, and the preprocessed cache.

The training folder holds many copies of the same picture (exact, mirrored, rotated,
contrast-shifted). `duplicate_groups.tsv` (shipped with the data) assigns every file to a
group; the split keeps each group on one side so validation never sees a training picture.
Groups whose files sit in different class folders carry conflicting labels and are dropped.
"""

import csv
import json
import multiprocessing
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ml import config
from ml.preprocess import preprocess


@dataclass(frozen=True)
class ImageRecord:
    relative_path: str  # "<class_folder>/<file name>", the id used in split.json
    class_index: int
    group_id: int


def decode_image_file(path: Path) -> np.ndarray:
    """Image file -> numpy array as Pillow decodes it; the format comes from the bytes, not the name.

    Returns (H, W) for grey / 16-bit files, (H, W, 3|4) for colour. Raises ValueError when
    the file cannot be decoded.
    """
    try:
        with Image.open(path) as picture:
            picture.load()
            if picture.mode in ("L", "I;16", "I;16B", "I", "F", "RGB", "RGBA"):
                return np.asarray(picture)
            if picture.mode in ("LA", "PA"):
                return np.asarray(picture.convert("RGBA"))
            return np.asarray(picture.convert("RGB"))
    except (OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise ValueError(f"Cannot decode {path.name}: {error}") from error


def read_duplicate_groups(groups_file: Path) -> list[dict]:
    with open(groups_file, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def conflicting_files(rows: list[dict]) -> list[str]:
    """Relative paths of files whose duplicate group spans more than one class folder."""
    classes_per_group = defaultdict(set)
    for row in rows:
        classes_per_group[row["group_id"]].add(row["class_folder"])
    return sorted(f"{row['class_folder']}/{row['file_name']}" for row in rows if len(classes_per_group[row["group_id"]]) > 1)


def reviewed_group_files(review: dict, groups_file: Path) -> dict[str, dict]:
    """Relative path -> its group's entry in a review (the content of an ml/artifacts/*.json review
    file: reviewer, how_found, groups of {group_id, example, label, finding}), for every file of
    every reviewed group.

    Reviews never change a label or the split; the model card reports the reviewed files
    separately (suspected label errors, tumours on other sequences).
    """
    entries = {str(entry["group_id"]): entry for entry in review["groups"]}
    return {f"{row['class_folder']}/{row['file_name']}": entries[row["group_id"]] for row in read_duplicate_groups(groups_file) if row["group_id"] in entries}


def index_training_images(groups_file: Path) -> tuple[list[ImageRecord], list[str]]:
    """duplicate_groups.tsv -> (usable records sorted by path, dropped conflicting paths)."""
    rows = read_duplicate_groups(groups_file)
    dropped = set(conflicting_files(rows))
    records = [
        ImageRecord(f"{row['class_folder']}/{row['file_name']}", config.CLASS_NAMES.index(row["class_folder"]), int(row["group_id"]))
        for row in rows
        if f"{row['class_folder']}/{row['file_name']}" not in dropped
    ]
    return sorted(records, key=lambda record: record.relative_path), sorted(dropped)


def grouped_stratified_split(records: list[ImageRecord], fraction: float, seed: int) -> list[str]:
    """Relative paths of the validation set: whole duplicate groups, ~`fraction` of each class."""
    rng = np.random.default_rng(seed)
    validation = []
    for class_index in range(len(config.CLASS_NAMES)):
        class_records = [record for record in records if record.class_index == class_index]
        files_per_group = defaultdict(list)
        for record in class_records:
            files_per_group[record.group_id].append(record.relative_path)
        group_ids = sorted(files_per_group)
        rng.shuffle(group_ids)
        target = fraction * len(class_records)
        taken = 0
        for group_id in group_ids:
            if taken >= target:
                break
            validation.extend(files_per_group[group_id])
            taken += len(files_per_group[group_id])
    return sorted(validation)


def write_split(groups_file: Path, split_file: Path) -> dict:
    records, dropped = index_training_images(groups_file)
    validation = grouped_stratified_split(records, config.VALIDATION_FRACTION, config.SEED)
    split = {
        "grouping": "duplicate_groups.tsv shipped with the data (identical bytes, or 64x64 grey correlation >= 0.95 under any of the 8 flips/rotations)",
        "seed": config.SEED,
        "validation_fraction": config.VALIDATION_FRACTION,
        "dropped_conflicting_labels": dropped,
        "n_training": len(records) - len(validation),
        "n_validation": len(validation),
        "validation": validation,
    }
    split_file.parent.mkdir(parents=True, exist_ok=True)
    split_file.write_text(json.dumps(split, indent=1) + "\n")
    return split


def read_split(split_file: Path = config.SPLIT_FILE) -> dict:
    return json.loads(split_file.read_text())


def _load_one(arguments: tuple[Path, int]) -> np.ndarray:
    """(file path, size) -> uint8 (size, size) preprocessed picture."""
    path, size = arguments
    return np.round(preprocess(decode_image_file(path), size) * 255).astype(np.uint8)


def default_cache_file(size: int) -> Path:
    return config.CACHE_DIR / f"training_{size}.npz"


def build_cache(images_dir: Path, groups_file: Path, size: int, cache_path: Path, workers: int = config.CPU_THREADS) -> None:
    """Decode + preprocess every usable training file once -> .npz (images uint8 (N, size, size), labels, paths)."""
    records, _ = index_training_images(groups_file)
    arguments = [(images_dir / record.relative_path, size) for record in records]
    with multiprocessing.Pool(workers) as pool:
        results = []
        for done, result in enumerate(pool.imap(_load_one, arguments, chunksize=16), start=1):
            results.append(result)
            if done % 500 == 0 or done == len(arguments):
                print(f"cache: {done}/{len(arguments)} images", file=sys.stderr, flush=True)
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        cache_path,
        images=np.stack(results),
        labels=np.array([record.class_index for record in records], dtype=np.int32),
        paths=np.array([record.relative_path for record in records]),
    )


def load_cache(images_dir: Path, groups_file: Path, size: int, cache_path: Path) -> dict[str, np.ndarray]:
    """The preprocessed training set, decoded on first use and read from the .npz afterwards."""
    if not cache_path.exists():
        build_cache(images_dir, groups_file, size, cache_path)
    with np.load(cache_path) as arrays:
        return {name: arrays[name] for name in arrays.files}


if __name__ == "__main__":
    if not config.SPLIT_FILE.exists():
        write_split(config.duplicate_groups_file(), config.SPLIT_FILE)
    build_cache(config.training_images_dir(), config.duplicate_groups_file(), config.IMAGE_SIZE, default_cache_file(config.IMAGE_SIZE))

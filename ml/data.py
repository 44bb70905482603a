"""The brain-mri/ index and its duplicate-group-aware validation split, and the preprocessed cache of every source.

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


# --- All sources (ml.sources) -------------------------------------------------------------------


def _load_source_record(arguments: tuple[Path, Path | None, int]) -> tuple[np.ndarray, np.ndarray | None]:
    """(image path, mask path or None, size) -> (uint8 (size, size) picture, uint8 (size, size) mask or None)."""
    from ml.preprocess import apply_geometry, preprocess_with_geometry

    path, mask_path, size = arguments
    picture, geometry = preprocess_with_geometry(decode_image_file(path), size)
    mask = None
    if mask_path is not None:
        mask_pixels = decode_image_file(mask_path)
        if mask_pixels.ndim == 3:  # 1-bit PNG as documented, but decoders may hand back RGB(A)
            mask_pixels = mask_pixels[:, :, :3].max(axis=2)
        mask = np.round(apply_geometry(mask_pixels > 127, geometry, size) * 255).astype(np.uint8)
    return np.round(picture * 255).astype(np.uint8), mask


def sources_cache_file(size: int) -> Path:
    return config.CACHE_DIR / f"sources_{size}.npz"


def build_sources_cache(records, data_dir: Path, size: int, cache_path: Path, workers: int = config.CPU_THREADS) -> None:
    """Decode + preprocess every record of ml.sources once -> .npz: images and masks uint8 (N, size, size)
    (masks are zero where has_mask is False), labels (N,) NETWORK_CLASSES indices, in the index's order."""
    from ml.sources import source_folder

    arguments = [
        (source_folder(record.source, data_dir) / record.relative_path, (data_dir / "lgg" / record.mask) if record.mask else None, size)
        for record in records
    ]
    images = np.zeros((len(records), size, size), np.uint8)
    masks = np.zeros((len(records), size, size), np.uint8)
    has_mask = np.zeros(len(records), bool)
    # Spawned, not forked: the caller may already run threads (TensorFlow's, a test server's), and a
    # child forked from a threaded process can wait forever on a lock it copied (seen in CI).
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for index, (picture, mask) in enumerate(pool.imap(_load_source_record, arguments, chunksize=32)):
            images[index] = picture
            if mask is not None:
                masks[index], has_mask[index] = mask, True
            if (index + 1) % 2000 == 0 or index + 1 == len(arguments):
                print(f"cache: {index + 1}/{len(arguments)} images", file=sys.stderr, flush=True)
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    labels = np.array([record.label_index for record in records], dtype=np.int32)
    np.savez(cache_path, images=images, masks=masks, has_mask=has_mask, labels=labels, paths=np.array([f"{r.source}/{r.relative_path}" for r in records]))


def load_sources_cache(records, data_dir: Path, size: int, cache_path: Path) -> dict[str, np.ndarray]:
    """The preprocessed images of every source, built on first use; checked against the index order."""
    if not cache_path.exists():
        build_sources_cache(records, data_dir, size, cache_path)
    with np.load(cache_path) as arrays:
        cache = {name: arrays[name] for name in arrays.files}
    if list(cache["paths"]) != [f"{r.source}/{r.relative_path}" for r in records]:
        raise ValueError(f"{cache_path} was built from another index; delete it to rebuild")
    return cache


if __name__ == "__main__":
    from ml.sources import load_or_build_index

    index = load_or_build_index(config.data_dir())
    load_sources_cache(index, config.data_dir(), config.IMAGE_SIZE, sources_cache_file(config.IMAGE_SIZE))

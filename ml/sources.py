"""Every training source in one index, and the split of each: which images train, which validate,
which are held out from everything.

- kaggle (`brain-mri/`): four classes; validation = the committed grouped split (whole duplicate
  groups, ml/artifacts/split.json), conflicting-label groups dropped.
- lgg (`lgg/`): every sequence of a slice is its own grey image, labelled glioma (mask not empty) or
  notumor; split by patient, LGG_VALIDATION_FRACTION of each institution's patients (at least one).
- not_mri (`not-brain-mri/`): the fifth class. HELD_OUT_NOT_MRI_KINDS never train and never choose a
  threshold; kinds with two collections validate on the other collection; the rest split by image.

The split is written once to ml/artifacts/split_sources.json and read from there afterwards, so
training, calibration, evaluation and the model card all see the same sides. A leave-kind-out run
holds further not-MRI kinds out; it records them in its own folder (fold.json), so that calibrating
that run holds them out too.
"""

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ml import config

TRAIN, VALIDATION, HELD_OUT = "train", "validation", "held_out"


@dataclass(frozen=True)
class SourceRecord:
    source: str  # kaggle | lgg | not_mri
    relative_path: str  # relative to that source's folder
    label: str  # one of config.NETWORK_CLASSES
    group: str  # what must stay on one side of the split: duplicate group, patient, or collection
    side: str  # TRAIN | VALIDATION | HELD_OUT
    sequence: str = ""  # lgg: t1 | flair | t1c
    kind: str = ""  # not_mri: the folder (knee_xray, head_ct, ...)
    mask: str = ""  # lgg: mask path relative to lgg/
    brain_area_fraction: float = 1.0  # lgg: head cross-section / the patient's largest
    relative_slice: float = 0.5  # lgg: 0 = lowest slice of the patient, 1 = highest

    @property
    def label_index(self) -> int:
        return config.NETWORK_CLASSES.index(self.label)


def source_folder(source: str, data_dir: Path) -> Path:
    return {"kaggle": data_dir / "brain-mri" / "Training", "lgg": data_dir / "lgg", "not_mri": data_dir / "not-brain-mri"}[source]


def kaggle_records(data_dir: Path, split_file: Path = config.SPLIT_FILE) -> list[SourceRecord]:
    from ml.data import index_training_images, read_split, write_split

    groups_file = data_dir / "brain-mri" / "duplicate_groups.tsv"
    split = read_split(split_file) if split_file.exists() else write_split(groups_file, split_file)
    validation = set(split["validation"])
    records, _ = index_training_images(groups_file)
    return [
        SourceRecord("kaggle", record.relative_path, config.CLASS_NAMES[record.class_index], f"kaggle-group-{record.group_id}",
                     VALIDATION if record.relative_path in validation else TRAIN)
        for record in records
    ]  # fmt: skip


def lgg_validation_patients(patients_by_institution: dict[str, list[str]], fraction: float, seed: int) -> set[str]:
    """{institution: patients} -> the validation patients: `fraction` of each institution, at least one."""
    rng = np.random.default_rng(seed)
    chosen = set()
    for institution in sorted(patients_by_institution):
        patients = sorted(patients_by_institution[institution])
        rng.shuffle(patients)
        chosen.update(patients[: max(1, int(round(fraction * len(patients))))])
    return chosen


def lgg_records(data_dir: Path, seed: int = config.SEED) -> list[SourceRecord]:
    with open(data_dir / "lgg" / "slices.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    patients_by_institution = defaultdict(set)
    slices_by_patient = defaultdict(list)
    for row in rows:
        patients_by_institution[row["institution"]].add(row["patient"])
        slices_by_patient[row["patient"]].append(int(row["slice"]))
    validation = lgg_validation_patients({key: list(value) for key, value in patients_by_institution.items()}, config.LGG_VALIDATION_FRACTION, seed)
    records = []
    for row in rows:
        low, high = min(slices_by_patient[row["patient"]]), max(slices_by_patient[row["patient"]])
        records.append(
            SourceRecord(
                "lgg", row["image"], "glioma" if row["tumour"] == "1" else config.NO_TUMOUR_CLASS, f"lgg-{row['patient']}",
                VALIDATION if row["patient"] in validation else TRAIN, sequence=row["sequence"], mask=row["mask"],
                brain_area_fraction=float(row["brain_area_fraction"]), relative_slice=(int(row["slice"]) - low) / max(high - low, 1),
            )
        )  # fmt: skip
    return records


def lgg_mask_areas(data_dir: Path) -> dict[str, int]:
    """lgg/ image path -> the area of its slice's FLAIR-abnormality mask in pixels (0: no tumour)."""
    with open(data_dir / "lgg" / "slices.csv", newline="") as handle:
        return {row["image"]: int(row["mask_area_px"]) for row in csv.DictReader(handle)}


def not_mri_records(data_dir: Path, seed: int = config.SEED) -> list[SourceRecord]:
    with open(data_dir / "not-brain-mri" / "sources.csv", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: row["file"])
    rng = np.random.default_rng(seed)
    records = []
    for row in rows:
        kind, collection = row["kind"], row["source_repo"]
        if kind in config.HELD_OUT_NOT_MRI_KINDS:
            side = HELD_OUT
        elif kind in config.NOT_MRI_VALIDATION_SOURCES:
            side = VALIDATION if collection == config.NOT_MRI_VALIDATION_SOURCES[kind] else TRAIN
        else:
            side = VALIDATION if rng.random() < config.NOT_MRI_VALIDATION_FRACTION else TRAIN
        records.append(SourceRecord("not_mri", row["file"], config.NOT_MRI_CLASS, f"not_mri-{collection}", side, kind=kind))
    return records


def build_index(data_dir: Path, kaggle_split_file: Path = config.SPLIT_FILE) -> list[SourceRecord]:
    return kaggle_records(data_dir, kaggle_split_file) + lgg_records(data_dir) + not_mri_records(data_dir)


def write_index(records: list[SourceRecord], path: Path = config.SPLIT_V2_FILE) -> None:
    summary = defaultdict(int)
    for record in records:
        summary[f"{record.source}/{record.side}/{record.label}"] += 1
    payload = {
        "rules": {
            "kaggle": "committed grouped split (ml/artifacts/split.json): whole duplicate groups, conflicting labels dropped",
            "lgg": f"by patient: {config.LGG_VALIDATION_FRACTION:.0%} of each institution's patients (at least one) validate; every sequence is its own image",
            "not_mri": f"held-out kinds {list(config.HELD_OUT_NOT_MRI_KINDS)} never train nor tune; {config.NOT_MRI_VALIDATION_SOURCES} validate on the other collection; other kinds {config.NOT_MRI_VALIDATION_FRACTION:.0%} of images at random",
        },
        "seed": config.SEED,
        "counts": dict(sorted(summary.items())),
        "lgg_validation_patients": sorted({record.group[4:] for record in records if record.source == "lgg" and record.side == VALIDATION}),
        "records": [[r.source, r.relative_path, r.label, r.group, r.side, r.sequence, r.kind, r.mask, r.brain_area_fraction, round(r.relative_slice, 4)] for r in records],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=0) + "\n")


def read_index(path: Path = config.SPLIT_V2_FILE) -> list[SourceRecord]:
    rows = json.loads(path.read_text())["records"]
    return [SourceRecord(*row[:5], sequence=row[5], kind=row[6], mask=row[7], brain_area_fraction=row[8], relative_slice=row[9]) for row in rows]


def load_or_build_index(data_dir: Path, path: Path = config.SPLIT_V2_FILE, kaggle_split_file: Path = config.SPLIT_FILE) -> list[SourceRecord]:
    if not path.exists():
        write_index(build_index(data_dir, kaggle_split_file), path)
    return read_index(path)


def hold_out_kinds(records: list[SourceRecord], kinds: tuple[str, ...]) -> list[SourceRecord]:
    """The same index with every not-MRI image of `kinds` held out: a leave-kind-out fold."""
    known = {record.kind for record in records if record.source == "not_mri"}
    unknown = sorted(set(kinds) - known)
    if unknown:
        raise ValueError(f"Unknown not-MRI kinds {unknown}; the index has {sorted(known)}.")
    return [replace(record, side=HELD_OUT) if record.source == "not_mri" and record.kind in kinds else record for record in records]


def write_fold(run_dir: Path, kinds: tuple[str, ...]) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / config.FOLD_FILE_NAME).write_text(json.dumps({"held_out_kinds": sorted(kinds)}) + "\n")


def fold_kinds(run_dir: Path) -> tuple[str, ...]:
    """The kinds a run in `run_dir` held out beyond the index's own (none for a normal run)."""
    path = run_dir / config.FOLD_FILE_NAME
    return tuple(json.loads(path.read_text())["held_out_kinds"]) if path.exists() else ()


def records_for_run(data_dir: Path, run_dir: Path, path: Path = config.SPLIT_V2_FILE) -> list[SourceRecord]:
    """The index as the run in `run_dir` was trained on it (with its fold's kinds held out)."""
    return hold_out_kinds(load_or_build_index(data_dir, path), fold_kinds(run_dir))

"""The real training, calibration and protocol code, end to end, on a tiny synthetic data folder laid
out like the shared one: brain-mri/ (four classes), lgg/ (patients, sequences, masks) and not-brain-mri/."""

import csv
import json

import numpy as np
from PIL import Image

from ml import config
from ml.tests.conftest import head_like_slice


def _write_csv(path, rows, delimiter=","):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


def make_dataset(root, per_class: int = 6):
    """-> the Kaggle validation list (two files per class) of a tiny data folder written under `root`."""
    images_dir = root / "brain-mri" / "Training"
    rows, validation = [], []
    for class_index, class_name in enumerate(config.CLASS_NAMES):
        (images_dir / class_name).mkdir(parents=True)
        for number in range(per_class):
            picture = head_like_slice(120, 100, margin=10, seed=class_index * 100 + number)
            picture[40:60, 30 + class_index * 10 : 50 + class_index * 10] = 255  # a class-dependent bright spot
            name = f"{class_name}_{number}.jpg"
            Image.fromarray(picture).save(images_dir / class_name / name)
            rows.append({"class_folder": class_name, "file_name": name, "sha256": "-", "group_id": len(rows), "group_size": 1})
            if number < 2:
                validation.append(f"{class_name}/{name}")
    _write_csv(root / "brain-mri" / "duplicate_groups.tsv", rows, delimiter="\t")

    lgg_rows = []
    for patient_number, institution in enumerate(("DU", "HT", "FG", "DU")):
        patient = f"TCGA_{institution}_{1000 + patient_number}_20000101"
        (root / "lgg" / "images" / patient).mkdir(parents=True)
        (root / "lgg" / "masks" / patient).mkdir(parents=True)
        for slice_number in range(1, 5):
            tumour = slice_number in (2, 3)
            mask = np.zeros((128, 128), np.uint8)
            if tumour:
                mask[50:70, 40:64] = 255
            mask_name = f"masks/{patient}/{patient}_{slice_number}_mask.png"
            Image.fromarray(mask).save(root / "lgg" / mask_name)
            for sequence in ("t1", "flair", "t1c"):
                picture = head_like_slice(128, 128, margin=12, seed=patient_number * 10 + slice_number)
                if tumour:
                    picture[50:70, 40:64] = 250
                image_name = f"images/{patient}/{patient}_{slice_number}_{sequence}.jpg"
                Image.fromarray(picture).save(root / "lgg" / image_name)
                lgg_rows.append({"image": image_name, "mask": mask_name, "patient": patient, "institution": institution, "slice": slice_number,
                                 "sequence": sequence, "tumour": int(tumour), "mask_area_px": int((mask > 0).sum()), "brain_area_fraction": 0.9})  # fmt: skip
    _write_csv(root / "lgg" / "slices.csv", lgg_rows)

    not_mri_rows = []
    rng = np.random.default_rng(0)
    for kind, collection in (("chest_xray", "a/x"), ("photo", "b/y"), ("knee_xray", "c/z"), ("head_ct", "d/w"), ("head_ct", config.NOT_MRI_VALIDATION_SOURCES["head_ct"])):
        (root / "not-brain-mri" / kind).mkdir(parents=True, exist_ok=True)
        for number in range(4):
            name = f"{kind}/{collection.replace('/', '_')}_{number}.jpg"
            Image.fromarray(rng.integers(0, 256, (96, 120, 3), dtype=np.uint8)).save(root / "not-brain-mri" / name)
            not_mri_rows.append({"file": name, "kind": kind, "source_repo": collection, "source_commit": "-", "source_path": "-", "licence_as_stated": "-"})
    _write_csv(root / "not-brain-mri" / "sources.csv", not_mri_rows)
    return validation


def test_the_real_training_calibration_and_protocol_run_on_every_source(tmp_path):
    import keras

    import ml.model  # noqa: F401
    from ml.calibrate import calibrate
    from ml.inference import Classifier
    from ml.protocol import collect_rows, summarise_rows
    from ml.sources import HELD_OUT, VALIDATION, load_or_build_index
    from ml.train import train

    data = tmp_path / "data"
    validation = make_dataset(data)
    (tmp_path / "split.json").write_text(json.dumps({"validation": validation}))
    index_file = tmp_path / "split_sources.json"
    records = load_or_build_index(data, index_file, tmp_path / "split.json")
    assert {record.source for record in records} == {"kaggle", "lgg", "not_mri"}
    lgg_sides = {record.group: record.side for record in records if record.source == "lgg"}
    assert VALIDATION in lgg_sides.values() and set(lgg_sides.values()) <= {"train", VALIDATION}  # whole patients
    assert {record.side for record in records if record.kind == "knee_xray"} == {HELD_OUT}

    weights = tmp_path / "weights"
    weights_file = train(data, weights, image_size=48, epochs=1, batch_size=8, records=records, steps_per_epoch=3, cache_path=tmp_path / "cache.npz")
    model = keras.models.load_model(weights_file, compile=False)
    logits, segmentation = model.predict(np.zeros((1, 48, 48, 1), np.float32), verbose=0)
    assert logits.shape == (1, len(config.NETWORK_CLASSES)) and segmentation.shape == (1, 6, 6, 1)
    with open(weights / config.TRAINING_LOG_NAME) as handle:
        assert len(list(csv.DictReader(handle))) == 1
    assert (weights / "checkpoint.keras").exists()

    calibration = calibrate(weights, data, index_file, tmp_path / "cache.npz")
    assert 0.5 <= calibration["no_tumour_threshold"] <= 1.0 and calibration["no_tumour_distance_threshold"] <= calibration["ood_threshold"]
    classifier = Classifier.load(weights)
    rows = collect_rows(classifier, records, data)
    summary = summarise_rows(rows)
    assert summary["by_source"]["lgg"]["n_tumour"] > 0 and summary["not_mri_by_kind"]["knee_xray"]["side"] == HELD_OUT


def test_a_leave_kind_out_fold_never_trains_nor_calibrates_on_its_kind_and_is_measured_on_all_of_it(tmp_path):
    from ml.calibrate import MRI_FALSE_REFUSAL
    from ml.loko import record_fold, run_fold
    from ml.sources import HELD_OUT, TRAIN, VALIDATION, fold_kinds, load_or_build_index, records_for_run

    data = tmp_path / "data"
    (tmp_path / "split.json").write_text(json.dumps({"validation": make_dataset(data)}))
    index_file = tmp_path / "split_sources.json"
    records = load_or_build_index(data, index_file, tmp_path / "split.json")
    # head_ct normally trains on one collection and validates on the other: the fold takes both away.
    assert {record.side for record in records if record.kind == "head_ct"} == {TRAIN, VALIDATION}

    result = run_fold("head_ct", data, tmp_path / "loko", epochs=1, max_minutes=10, index_file=index_file,
                      cache_path=tmp_path / "cache.npz", image_size=48, batch_size=8, steps_per_epoch=2)  # fmt: skip
    run_dir = tmp_path / "loko" / "head_ct"
    assert fold_kinds(run_dir) == ("head_ct",)
    assert {record.side for record in records_for_run(data, run_dir, index_file) if record.kind == "head_ct"} == {HELD_OUT}
    assert result["kind"] == "head_ct" and result["n"] == 8 and 0 <= result["refused"] <= 8 and result["epochs"] == 1
    assert result["mri_false_refusal"] == MRI_FALSE_REFUSAL  # the refusal budget the fold was calibrated with
    # Stricter thresholds refuse at least as much of the kind and of the validation MRIs.
    points = result["operating_points"]
    assert [point["mri_share_each"] for point in points] == [0.01, 0.02]
    assert points[0]["kind_refused"] <= points[1]["kind_refused"] and points[0]["mri_refused"] <= points[1]["mri_refused"]
    # Finished folds are not trained again: a second call only re-measures.
    assert run_fold("head_ct", data, tmp_path / "loko", epochs=1, max_minutes=10, index_file=index_file, cache_path=tmp_path / "cache.npz")["n"] == 8
    folds = record_fold(result, tmp_path / "loko.json")
    assert folds["folds"]["head_ct"]["refused"] == result["refused"]


def test_holding_out_an_unknown_kind_is_refused():
    import pytest

    from ml.sources import SourceRecord, hold_out_kinds

    records = [SourceRecord("not_mri", "photo/a.jpg", config.NOT_MRI_CLASS, "not_mri-x", "train", kind="photo")]
    with pytest.raises(ValueError, match="knee"):
        hold_out_kinds(records, ("knee",))
    assert hold_out_kinds(records, ("photo",))[0].side == "held_out"

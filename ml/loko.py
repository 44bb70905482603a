"""Leave-one-kind-out folds for "not a brain MRI": for each kind, a network trained and calibrated
without it, then asked about every image of that kind (all its collections). A kind never seen in
training nor in calibration is the honest estimate of how the portal meets a new kind of image.

    python -m ml.loko --kinds head_ct,knee_xray --epochs 12 [--output-root ml/.cache/runs/loko]

Each fold trains from scratch in <output-root>/<kind> (resumable: a fold cut off mid-training goes
on from its checkpoint; a finished fold is not run again) and is written to ml/artifacts/loko.json
as soon as it is done, so the model card can show every fold measured so far. Hours per fold on a
2-core CPU; minutes on a GPU.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ml import config

LOKO_FILE = config.LOKO_FILE


# Shares of validation MRIs that each refusal threshold (not-MRI output, feature distance) would refuse
# at the other operating points a fold reports (its calibrated not-MRI threshold refuses ml.calibrate.MRI_FALSE_REFUSAL).
OPERATING_POINT_MRI_SHARES = (0.01, 0.02)


def operating_points(kind_scores: np.ndarray, mri_scores: np.ndarray, shares=OPERATING_POINT_MRI_SHARES) -> list[dict]:
    """(n, 2) [not-MRI probability, distance] of the held-out kind and of validation MRIs -> for each
    share, both thresholds set where each refuses that share of the MRIs: what the kind and the MRIs
    would then have refused (either threshold)."""
    points = []
    for share in shares:
        not_mri_threshold, distance_threshold = np.quantile(mri_scores[:, 0], 1 - share), np.quantile(mri_scores[:, 1], 1 - share)
        refused = lambda scores: float(np.mean((scores[:, 0] >= not_mri_threshold) | (scores[:, 1] > distance_threshold)))  # noqa: E731
        points.append({"mri_share_each": share, "kind_refused": refused(kind_scores), "mri_refused": refused(mri_scores)})
    return points


def measure_fold(classifier, records, data_dir: Path, kind: str) -> dict:
    """The fold's classifier on every image of its held-out kind, and what other thresholds would refuse."""
    from ml.data import decode_image_file
    from ml.protocol import collect_rows, not_mri_metrics
    from ml.sources import HELD_OUT, VALIDATION, source_folder

    kind_records = [record for record in records if record.source == "not_mri" and record.kind == kind]
    assert all(record.side == HELD_OUT for record in kind_records), "a fold must never have trained or tuned on its kind"
    mri_records = [record for record in records if record.source != "not_mri" and record.side == VALIDATION]

    def scores(chosen) -> np.ndarray:
        return np.array([classifier.refusal_scores(decode_image_file(source_folder(r.source, data_dir) / r.relative_path)) for r in chosen])

    figures = not_mri_metrics(collect_rows(classifier, kind_records, data_dir, sides=(HELD_OUT,)))
    return {**figures, "operating_points": operating_points(scores(kind_records), scores(mri_records))}


def run_fold(kind: str, data_dir: Path, output_root: Path, epochs: int, max_minutes: float,
             index_file: Path = config.SPLIT_V2_FILE, cache_path: Path | None = None, **train_options) -> dict:
    """Train (or finish training) and calibrate the fold without `kind`, then measure it on `kind`."""
    from ml.calibrate import calibrate
    from ml.inference import Classifier
    from ml.sources import load_or_build_index, records_for_run
    from ml.train import CHECKPOINT_NAME, PROGRESS_NAME, train

    run_dir = output_root / kind
    progress = run_dir / PROGRESS_NAME
    done = json.loads(progress.read_text())["epochs_done"] if progress.exists() else 0
    if done < epochs:
        train(data_dir, run_dir, epochs=epochs, max_minutes=max_minutes, hold_out=(kind,), resume=(run_dir / CHECKPOINT_NAME).exists(),
              records=load_or_build_index(data_dir, index_file), cache_path=cache_path, **train_options)  # fmt: skip
        done = json.loads(progress.read_text())["epochs_done"]
        if done < epochs:
            raise SystemExit(f"fold {kind}: {done}/{epochs} epochs in the time given; run the same command again to go on")
    if not (run_dir / config.CALIBRATION_FILE_NAME).exists():  # written last: a calibrated fold is only measured again
        calibrate(run_dir, data_dir, index_file, cache_path)
    figures = measure_fold(Classifier.load(run_dir), records_for_run(data_dir, run_dir, index_file), data_dir, kind)
    refusal_budget = json.loads((run_dir / config.CALIBRATION_FILE_NAME).read_text())["mri_false_refusal"]
    return {"kind": kind, "epochs": done, "mri_false_refusal": refusal_budget, **figures}


def record_fold(result: dict, path: Path = LOKO_FILE) -> dict:
    folds = json.loads(path.read_text()) if path.exists() else {"what": "leave-one-kind-out: trained and calibrated without the kind, tested on all its images", "folds": {}}
    folds["folds"][result["kind"]] = result
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(folds, indent=1, sort_keys=True) + "\n")
    return folds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", required=True, help="comma-separated not-MRI kinds, one fold each")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--max-minutes", type=float, default=600.0, help="wall-clock budget per fold and invocation")
    parser.add_argument("--data-dir", type=Path, default=config.data_dir())
    parser.add_argument("--output-root", type=Path, default=config.CACHE_DIR / "runs" / "loko")
    arguments = parser.parse_args(argv)
    from ml.runtime import configure_tensorflow

    configure_tensorflow()
    for kind in [kind for kind in arguments.kinds.split(",") if kind]:
        result = run_fold(kind, arguments.data_dir, arguments.output_root, arguments.epochs, arguments.max_minutes)
        record_fold(result)
        print(json.dumps(result), flush=True)
    print(f"folds written to {LOKO_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()

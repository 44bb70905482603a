"""The evaluate and explain command lines, run in-process on a tiny folder."""

import json

import numpy as np
from PIL import Image

from ml.tests.conftest import head_like_slice


def test_evaluate_maps_folder_names_and_counts_errors(tmp_path, capsys):
    from ml.evaluate import main

    for folder in ("Glioma_Tumor", "no", "yes", "ood", "unrelated"):
        (tmp_path / folder).mkdir()
    Image.fromarray(head_like_slice()).save(tmp_path / "Glioma_Tumor" / "a.png")
    Image.fromarray(head_like_slice(seed=1)).save(tmp_path / "no" / "b.jpg")
    Image.fromarray(head_like_slice(seed=2)).save(tmp_path / "yes" / "c.png")
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(tmp_path / "ood" / "blank.png")
    (tmp_path / "no" / "broken.jpg").write_bytes(b"not an image")
    main(["--data", str(tmp_path)])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["n_images"] == 5 and summary["n_errors"] == 1
    assert summary["per_class"]["glioma"]["n"] == 1 and summary["per_class"]["notumor"]["n"] == 1
    assert summary["binary"]["tp"] + summary["binary"]["fn"] == 2
    assert summary["not_mri"] == {"n": 1, "flagged": 1, "flagged_rate": 1.0}
    assert summary["ignored_folders"] == ["unrelated"]
    assert {"infer_median", "infer_p95"} <= set(summary["latency_ms"])


def test_explain_writes_overlay_and_heatmap_at_the_image_size(tmp_path, capsys):
    from ml.explain import main

    Image.fromarray(head_like_slice(210, 180)).save(tmp_path / "scan.png")
    assert main([str(tmp_path / "scan.png"), "--out", str(tmp_path / "out")]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    heatmap = np.load(tmp_path / "out" / "scan_heatmap.npy")
    assert heatmap.shape == (210, 180) and 0.0 <= heatmap.min() and heatmap.max() <= 1.0
    with Image.open(tmp_path / "out" / "scan_overlay.png") as overlay:
        assert overlay.size == (180, 210) and overlay.mode == "RGB"
    assert line["label"] == line["explained_class"]

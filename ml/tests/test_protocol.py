"""The protocol's arithmetic: silent misses, coverage, per-group figures, the pointing game."""

import numpy as np

from ml.evaluate import Outcome, summarise
from ml.protocol import mri_metrics, pointing, sensitivity_by_lesion_size, summarise_rows


def row(truth, predicted, abstained=False, kind=None, source="lgg", sequence="flair", path="images/TCGA_DU_1_2/x.jpg", area=0.9, position=0.5, side="validation"):
    return {"source": source, "truth": truth, "predicted": predicted, "abstained": abstained or kind is not None, "abstain_kind": kind,
            "sequence": sequence, "path": path, "brain_area_fraction": area, "relative_slice": position, "side": side, "kind": ""}  # fmt: skip


def test_a_silent_miss_is_a_tumour_answered_no_tumour_without_a_flag():
    rows = [
        row("glioma", "notumor"),  # silent miss
        row("glioma", "notumor", kind="no_tumour_unconfirmed"),  # missed by the top label, but flagged: not silent
        row("glioma", "glioma"),
        row("glioma", "notumor", kind="not_mri"),  # refused: a person sees it was not analysed
        row("notumor", "notumor"),  # covered
        row("notumor", "notumor", kind="no_tumour_unconfirmed"),  # specific, not covered
        row("notumor", "glioma"),
    ]
    metrics = mri_metrics(rows)
    assert metrics["silent_miss"] == {"count": 1, "rate": 0.25}
    assert metrics["sensitivity"] == 0.25
    assert metrics["no_tumour_coverage"] == 1 / 3 and metrics["specificity"] == 2 / 3
    assert metrics["refused_as_not_mri"] == 1 / 7


def test_evaluate_reports_silent_misses_beside_sensitivity():
    outcomes = [
        Outcome("a", "glioma", predicted="notumor", probabilities=(0.1, 0.0, 0.9, 0.0)),
        Outcome("b", "meningioma", predicted="notumor", abstained=True, abstain_kind="no_tumour_unconfirmed", probabilities=(0.0, 0.4, 0.6, 0.0)),
        Outcome("c", "pituitary", predicted="pituitary", probabilities=(0.0, 0.0, 0.0, 1.0)),
        Outcome("d", "notumor", predicted="notumor", probabilities=(0.0, 0.0, 1.0, 0.0)),
    ]
    binary = summarise(outcomes, "test")["binary"]
    assert binary["sensitivity"] == 1 / 3
    assert binary["silent_miss"] == {"count": 1, "rate": 1 / 3}


def test_the_summary_splits_by_sequence_institution_and_matched_brain_area():
    rows = [
        row("glioma", "notumor", sequence="t1", path="images/TCGA_HT_1_2/a.jpg"),
        row("glioma", "glioma", sequence="flair"),
        row("notumor", "notumor", sequence="flair", area=0.55),  # not in the matched subset
        row("notumor", "notumor", sequence="t1c", position=0.1),  # skull base: not matched either
        row("glioma", "glioma", source="kaggle", sequence="", path="glioma/x.jpg"),
    ]
    summary = summarise_rows(rows)
    assert summary["lgg_by_sequence"]["t1"]["silent_miss"]["count"] == 1
    assert summary["lgg_by_institution"]["HT"]["n_tumour"] == 1 and summary["lgg_by_institution"]["DU"]["n_tumour"] == 1
    assert summary["lgg_brain_area_matched"]["n_no_tumour"] == 0
    assert summary["by_source"]["kaggle"]["sensitivity"] == 1.0
    assert summary["worst_silent_miss_rate"] == 1.0  # lgg t1: one tumour, missed silently


def test_the_pointing_game_allows_the_margin_and_measures_the_heat_share():
    mask = np.zeros((100, 100), bool)
    mask[40:50, 40:50] = True
    heat = np.zeros((100, 100), np.float32)
    heat[45, 60] = 1.0  # 10 px right of the mask: inside the 15 px margin
    assert pointing(heat, mask) == (True, 0.0)
    heat[45, 80] = 2.0  # the hottest point, 30 px away
    assert pointing(heat, mask)[0] is False
    heat[:] = 0.0
    heat[mask] = 1.0
    assert pointing(heat, mask) == (True, 1.0)


def test_sensitivity_by_lesion_size_bins_validation_tumours_by_mask_area():
    rows = [
        row("glioma", "notumor", path="small-silent"),
        row("glioma", "notumor", kind="no_tumour_unconfirmed", path="small-flagged"),
        row("glioma", "glioma", path="edge"),  # exactly 500 px: the second bin
        row("glioma", "glioma", path="large"),
        row("glioma", "notumor", path="large-train", side="train"),  # not a validation slice
        row("notumor", "notumor", path="no-lesion"),  # not a tumour
    ]
    areas = {"small-silent": 40, "small-flagged": 499, "edge": 500, "large": 5000, "large-train": 5000, "no-lesion": 0}
    table = sensitivity_by_lesion_size(rows, areas)
    assert [(entry["area_px"], entry["n"], entry["detected"], entry["silent_misses"]) for entry in table] == [
        ([1, 500], 2, 0, 1), ([500, 1500], 1, 1, 0), ([1500, 3000], 0, 0, 0), ([3000, None], 1, 1, 0),
    ]
    assert table[0]["sensitivity"] == 0.0 and table[2]["sensitivity"] is None


def test_a_folds_other_operating_points_set_each_threshold_on_the_validation_mris():
    from ml.loko import operating_points

    mri = np.array([[0.01 * i, float(i)] for i in range(100)])  # not-MRI probability, distance
    kind = np.array([[0.995, 0.0], [0.0, 99.5], [0.5, 50.0], [0.0, 0.0]])  # one by each score, two accepted
    point = operating_points(kind, mri, shares=(0.01,))[0]
    assert point["kind_refused"] == 0.5
    assert 0.01 <= point["mri_refused"] <= 0.02  # either threshold: a little over one share


def test_a_refusal_budget_sets_the_not_mri_threshold_on_validation_mris_and_keeps_input_check_refusals():
    from ml.protocol import refusal_budgets

    def scored(source, probability, distance=1.0, kind="", side="validation", input_refused=False):
        return {"source": source, "sequence": "t1" if source == "lgg" else "", "kind": kind, "side": side,
                "not_mri_probability": probability, "distance": distance, "input_refused": input_refused}  # fmt: skip

    mri = [scored("kaggle", i / 100) for i in range(100)] + [scored("kaggle", 0.0, distance=50.0)]  # last: too far
    head_ct = [scored("not_mri", 0.5, kind="head_ct"), scored("not_mri", 0.05, kind="head_ct")]
    coloured = [scored("not_mri", 0.0, kind="photo", input_refused=True)]  # refused by the input checks, not by a score
    calibration = {"ood_threshold": 10.0}
    loose, strict = refusal_budgets(mri + head_ct + coloured, calibration, budgets=(0.01, 0.6))
    assert loose["not_mri_threshold"] == 0.98 and 0.38 < strict["not_mri_threshold"] < 0.41
    assert loose["refused"]["kaggle"] == 3 / 101 and loose["refused"]["head_ct_validation"] == 0.0  # 0.98, 0.99 and the far one
    assert 0.59 < strict["refused"]["kaggle"] < 0.62 and strict["refused"]["head_ct_validation"] == 0.5
    assert loose["refused"]["not_mri_validation"] == 1 / 3  # the photo stays refused whatever the budget
    assert refusal_budgets([{"source": "kaggle"}], calibration) == []  # rows from older code carry no scores

"""Model-card summaries that are plain functions of evaluation outcomes."""

from ml.evaluate import Outcome
from ml.model_card import other_sequence_results, second_reader_comparison


def test_other_sequence_results_count_misses_per_group_and_separate_confident_ones():
    first = {"group_id": 1, "example": "meningioma/a.jpg", "label": "meningioma", "finding": "T2"}
    second = {"group_id": 2, "example": "glioma/c.jpg", "label": "glioma", "finding": "FLAIR"}
    review = {"reviewer": "test", "how_found": "test", "groups": [first, second]}
    files = {"meningioma/a.jpg": first, "meningioma/b.jpg": first, "glioma/c.jpg": second}
    outcomes = [
        Outcome(name="meningioma/a.jpg", truth="meningioma", predicted="meningioma"),
        Outcome(name="meningioma/b.jpg", truth="meningioma", predicted="notumor", abstained=True),
        Outcome(name="glioma/c.jpg", truth="glioma", predicted="notumor"),
        Outcome(name="glioma/unreviewed.jpg", truth="glioma", predicted="notumor"),  # not in the review: ignored
    ]

    results = other_sequence_results(outcomes, review, files)

    assert results["n_files"] == 3
    assert results["tumour_recall"] == 1 / 3
    assert results["accuracy_4class"] == 1 / 3
    assert results["abstained"] == 1
    assert results["missed_without_abstaining"] == 1  # c.jpg; b.jpg was missed too, but a reader sees it
    assert [group["n_validation_files"] for group in results["groups"]] == [2, 1]
    assert results["groups"][0]["predicted"] == {"glioma": 0, "meningioma": 1, "notumor": 1, "pituitary": 0}


def test_second_reader_comparison_pairs_each_row_of_both_runs():
    def row(recall, specificity, answered=0.0):
        return {
            "tumour_recall": recall, "notumor_specificity": specificity, "notumor_specificity_without_suspected_label_errors": specificity,
            "accuracy_4class": recall, "second_reader_answered_rate": answered,
        }  # fmt: skip

    comparison = second_reader_comparison({"none": row(0.99, 0.98, 0.01), "invert": row(0.9, 0.8, 0.3)}, {"none": row(0.99, 0.99), "invert": row(0.6, 0.9)})

    assert list(comparison) == ["none", "invert"]
    assert comparison["invert"]["tumour_recall_first_reader_alone"] == 0.6
    assert comparison["invert"]["tumour_recall_with_second_reader"] == 0.9
    assert comparison["none"]["notumor_specificity_first_reader_alone"] == 0.99
    assert comparison["none"]["notumor_specificity_with_second_reader"] == 0.98
    assert comparison["invert"]["second_reader_answered_rate"] == 0.3

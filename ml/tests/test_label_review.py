"""The out-of-fold label review's plain parts: folds by group, and which groups it lists."""

import numpy as np

from ml.label_review import doubtful_groups, group_folds


def test_folds_keep_each_duplicate_group_whole_and_spread_every_class():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(120), rng.integers(1, 4, size=120))  # 120 groups of 1-3 copies
    labels = groups % 4  # a group's copies share its label
    fold_of = group_folds(labels, groups, folds=4, seed=1)

    for group in np.unique(groups):
        assert len(set(fold_of[groups == group])) == 1
    for fold in range(4):
        assert set(labels[fold_of == fold]) == {0, 1, 2, 3}


def test_only_groups_whose_label_is_doubted_are_listed_most_doubtful_first():
    paths = np.array(["glioma/a.jpg", "glioma/a2.jpg", "meningioma/b.jpg", "pituitary/c.jpg"])
    labels = np.array([0, 0, 1, 3])
    groups = np.array([7, 7, 8, 9])
    probabilities = np.array(
        [
            [0.05, 0.0, 0.0, 0.95],  # group 7: mean p(glioma) = 0.06 -> listed
            [0.07, 0.0, 0.0, 0.93],
            [0.0, 0.9, 0.1, 0.0],  # group 8: agrees -> not listed
            [0.0, 0.0, 0.98, 0.02],  # group 9: p(pituitary) = 0.02 -> listed first
        ]
    )

    listed = doubtful_groups(paths, labels, groups, probabilities, threshold=0.1)

    assert [entry["group_id"] for entry in listed] == [9, 7]
    assert listed[0] == {
        "group_id": 9, "files": ["pituitary/c.jpg"], "label": "pituitary", "predicted": "notumor", "probability_of_label": 0.02,
        "probabilities": {"glioma": 0.0, "meningioma": 0.0, "notumor": 0.98, "pituitary": 0.02},
    }  # fmt: skip
    assert listed[1]["files"] == ["glioma/a.jpg", "glioma/a2.jpg"] and listed[1]["probability_of_label"] == 0.06

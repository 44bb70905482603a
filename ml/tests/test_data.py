"""Dataset bookkeeping that needs no images: duplicate groups and the reviews of validation groups."""

import json

import pytest

from ml import config


def test_a_review_covers_every_file_of_its_groups_and_nothing_else(tmp_path):
    from ml.data import reviewed_group_files

    groups_file = tmp_path / "duplicate_groups.tsv"
    groups_file.write_text(
        "class_folder\tfile_name\tsha256\tgroup_id\tgroup_size\n"
        "notumor\ta.jpg\t0\t7\t2\n"
        "notumor\tb.jpg\t1\t7\t2\n"
        "glioma\tc.jpg\t2\t8\t1\n"
    )
    entry = {"group_id": 7, "example": "notumor/a.jpg", "label": "notumor", "finding": "a visible lesion"}
    review = {"reviewer": "test", "how_found": "test", "groups": [entry]}

    assert reviewed_group_files(review, groups_file) == {"notumor/a.jpg": entry, "notumor/b.jpg": entry}


@pytest.mark.parametrize("review_file", [config.SUSPECTED_LABEL_ERRORS_FILE, config.OTHER_SEQUENCE_TUMOURS_FILE], ids=lambda path: path.stem)
def test_each_committed_review_names_validation_examples_with_their_label_and_a_finding(review_file):
    review = json.loads(review_file.read_text())
    validation = set(json.loads(config.SPLIT_FILE.read_text())["validation"])
    assert review["reviewer"] and review["how_found"] and review["groups"]
    for entry in review["groups"]:
        assert entry["example"] in validation  # a review of training files would say nothing about the model
        assert entry["example"].split("/")[0] == entry["label"] and entry["finding"]

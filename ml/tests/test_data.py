"""Dataset bookkeeping that needs no images: duplicate groups and the suspected-label review."""

import json

from ml import config


def test_suspected_label_errors_cover_every_file_of_their_group_and_nothing_else(tmp_path):
    from ml.data import suspected_label_errors

    groups_file = tmp_path / "duplicate_groups.tsv"
    groups_file.write_text(
        "class_folder\tfile_name\tsha256\tgroup_id\tgroup_size\n"
        "notumor\ta.jpg\t0\t7\t2\n"
        "notumor\tb.jpg\t1\t7\t2\n"
        "glioma\tc.jpg\t2\t8\t1\n"
    )
    review_file = tmp_path / "review.json"
    entry = {"group_id": 7, "example": "notumor/a.jpg", "label": "notumor", "finding": "a visible lesion"}
    review_file.write_text(json.dumps({"reviewer": "test", "how_found": "test", "groups": [entry]}))

    assert suspected_label_errors(groups_file, review_file) == {"notumor/a.jpg": entry, "notumor/b.jpg": entry}


def test_the_committed_review_names_groups_whose_example_belongs_to_them():
    review = json.loads(config.SUSPECTED_LABEL_ERRORS_FILE.read_text())
    assert review["groups"], "the review file lists no group"
    for entry in review["groups"]:
        assert entry["example"].split("/")[0] == entry["label"] and entry["finding"]

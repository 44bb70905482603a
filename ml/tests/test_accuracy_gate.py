"""The committed weights must classify a fixed slice of the committed validation split."""

from ml import config
from ml.tests.conftest import require_data_or_skip

GATE_IMAGES = 400
GATE_ACCURACY = 0.97


def test_committed_weights_reach_the_accuracy_gate(classifier):
    require_data_or_skip()
    from ml.data import decode_image_file, read_split

    # Every other file of the (class-sorted) validation list: a fixed, class-balanced slice.
    files = read_split()["validation"][::2][:GATE_IMAGES]
    assert len(files) == GATE_IMAGES
    correct = sum(classifier.predict(decode_image_file(config.training_images_dir() / relative)).label == relative.split("/")[0] for relative in files)
    assert correct / GATE_IMAGES >= GATE_ACCURACY, f"accuracy {correct / GATE_IMAGES:.3f} < {GATE_ACCURACY}"


def test_the_split_keeps_duplicate_groups_and_drops_conflicting_labels():
    require_data_or_skip()
    from ml.data import index_training_images, read_split

    split = read_split()
    records, dropped = index_training_images(config.duplicate_groups_file())
    validation = set(split["validation"])
    groups_in_validation = {record.group_id for record in records if record.relative_path in validation}
    groups_in_training = {record.group_id for record in records if record.relative_path not in validation}
    assert not groups_in_validation & groups_in_training
    assert len(dropped) == 12 and not validation & set(dropped)

"""One real training epoch on a tiny synthetic dataset laid out like the shared data."""

import csv

import numpy as np
from PIL import Image

from ml import config
from ml.tests.conftest import head_like_slice


def make_dataset(root, per_class: int = 8):
    images_dir = root / "brain-mri" / "Training"
    rows = []
    for class_index, class_name in enumerate(config.CLASS_NAMES):
        (images_dir / class_name).mkdir(parents=True)
        for number in range(per_class):
            picture = head_like_slice(120, 100, margin=10, seed=class_index * 100 + number)
            picture[40:60, 30 + class_index * 10 : 50 + class_index * 10] = 255  # a class-dependent bright spot
            name = f"{class_name}_{number}.jpg"
            Image.fromarray(picture).save(images_dir / class_name / name)
            rows.append({"class_folder": class_name, "file_name": name, "sha256": "-", "group_id": len(rows), "group_size": 1})
    with open(root / "brain-mri" / "duplicate_groups.tsv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)


def test_one_epoch_of_real_training_writes_a_loadable_model_and_log(tmp_path):
    import keras

    import ml.model  # noqa: F401
    from ml.train import train

    make_dataset(tmp_path / "data")
    weights_file = train(
        data_dir=tmp_path / "data",
        output_dir=tmp_path / "weights",
        split_file=tmp_path / "split.json",
        cache_path=tmp_path / "cache.npz",
        image_size=48,
        epochs=1,
        batch_size=8,
    )
    assert weights_file.exists() and (tmp_path / "split.json").exists() and (tmp_path / "cache.npz").exists()
    with open(tmp_path / "weights" / config.TRAINING_LOG_NAME) as handle:
        assert len(list(csv.DictReader(handle))) == 1
    model = keras.models.load_model(weights_file, compile=False)
    assert model.predict(np.zeros((1, 48, 48, 1), np.float32), verbose=0).shape == (1, len(config.CLASS_NAMES))

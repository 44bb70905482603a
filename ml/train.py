"""Train the NeuroScan CNN.

    python -m ml.train --epochs 30 --max-minutes 70          # the real run
    python -m ml.train --measure-batches 20                  # time a few training steps first

Reads the preprocessed cache (built once from the data folder), trains with augmentation on
the training side of the grouped split, keeps the best epoch (validation accuracy, then loss)
as ml/weights/neuroscan_cnn.keras, logs every epoch to training_log.csv, and stops early when
validation stops improving or the time budget is spent.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from ml import config


def configure_tensorflow(threads: int = config.CPU_THREADS) -> None:
    """Fix thread counts before TensorFlow starts its pools; a no-op once TF already runs."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # TensorFlow was initialised by the caller (a test, a notebook): keep its pools


def split_indices(paths: np.ndarray, validation_paths: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(N,) cache paths -> (training indices, validation indices)."""
    is_validation = np.isin(paths, np.array(validation_paths))
    return np.flatnonzero(~is_validation), np.flatnonzero(is_validation)


def make_datasets(
    images: np.ndarray,
    labels: np.ndarray,
    train_index: np.ndarray,
    validation_index: np.ndarray,
    batch_size: int,
    seed: int,
    tissue_contrast_probability: float = 0.0,
):
    """uint8 (N, S, S) images -> (augmented training tf.data, plain validation tf.data) of (B, S, S, 1) float."""
    import tensorflow as tf

    from ml.augment import batch_augmenter, random_jpeg

    training = (
        tf.data.Dataset.from_tensor_slices((images[train_index], labels[train_index]))
        .shuffle(len(train_index), seed=seed, reshuffle_each_iteration=True)
        .map(lambda image, label: (random_jpeg(image), label), num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size, drop_remainder=True)
        .map(batch_augmenter(tissue_contrast_probability), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    validation = (
        tf.data.Dataset.from_tensor_slices((images[validation_index][..., np.newaxis].astype(np.float32) / 255.0, labels[validation_index]))
        .batch(64)
        .prefetch(tf.data.AUTOTUNE)
    )
    return training, validation


def save_inference_model(model, image_size: int, path: Path) -> None:
    """Write the weights into a fresh, uncompiled model (no optimizer state: a smaller file), atomically."""
    from ml.model import build_model

    clean = build_model(image_size)
    clean.set_weights(model.get_weights())
    temporary = path.with_name(path.name + ".tmp.keras")
    clean.save(temporary)
    os.replace(temporary, path)


def make_best_checkpoint_callback(image_size: int, weights_file: Path, patience: int, deadline: float):
    """Keeps the best epoch (higher val accuracy, ties -> lower val loss); stops on patience or deadline."""
    import keras

    class BestCheckpoint(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best_score = None
            self.epochs_without_improvement = 0
            self.epoch_started = 0.0
            self.best_epoch = None

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            score = (round(float(logs["val_accuracy"]), 5), -float(logs["val_loss"]))
            seconds = time.monotonic() - self.epoch_started
            improved = self.best_score is None or score > self.best_score
            if improved:
                self.best_score = score
                self.best_epoch = epoch + 1
                self.epochs_without_improvement = 0
                save_inference_model(self.model, image_size, weights_file)
            else:
                self.epochs_without_improvement += 1
            print(
                f"epoch {epoch + 1}: {seconds:.0f} s, loss {logs['loss']:.4f}, acc {logs['accuracy']:.4f}, "
                f"val_loss {logs['val_loss']:.4f}, val_acc {logs['val_accuracy']:.4f}"
                + (" -> saved" if improved else f" (no improvement for {self.epochs_without_improvement})"),
                flush=True,
            )
            if self.epochs_without_improvement >= patience:
                print(f"early stop: no improvement for {patience} epochs", flush=True)
                self.model.stop_training = True
            elif time.time() + seconds > deadline:
                print("time budget spent: stopping before the next epoch would overrun it", flush=True)
                self.model.stop_training = True

    return BestCheckpoint()


def recalibrate_batch_norm(model, images: np.ndarray, seed: int, passes: int = 2, batch_size: int = 64) -> None:
    """Re-estimate every batch-norm layer's moving mean/variance on augmented training images.

    During training the moving statistics trail weights that change every step, and validation
    accuracy swung by several points from epoch to epoch. Re-estimating them once on the final
    weights (no gradient step; weights unchanged) removes that lag. uint8 (N, S, S) images.
    """
    import keras

    from ml.calibrate import augmented

    batch_norm_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in batch_norm_layers:
        layer.momentum = 0.98  # an average over the last ~50 batches (~3,200 images)
    rng = np.random.default_rng(seed)
    for number in range(passes):
        pictures = augmented(images, seed + number)  # (N, S, S) float32
        order = rng.permutation(len(pictures))
        for start in range(0, len(order), batch_size):
            # training=True makes batch-norm use and accumulate batch statistics; nothing else is updated.
            model(pictures[order[start : start + batch_size], :, :, np.newaxis], training=True)
    for layer in batch_norm_layers:
        layer.momentum = 0.99


def recalibrate_saved_model(output_dir: Path, split_file: Path, cache_path: Path, seed: int = config.SEED) -> dict:
    """Load the saved best model, re-estimate batch-norm statistics, keep the result if validation agrees.

    Writes batch_norm_recalibration.json (validation accuracy before/after) next to the weights.
    """
    import json

    import keras

    import ml.model  # noqa: F401  registers the custom layer
    from ml.data import read_split

    weights_file = output_dir / config.WEIGHTS_FILE_NAME
    model = keras.models.load_model(weights_file, compile=False)
    with np.load(cache_path) as arrays:
        images, labels, paths = arrays["images"], arrays["labels"], arrays["paths"]
    train_index, validation_index = split_indices(paths, read_split(split_file)["validation"])
    validation_images = images[validation_index][..., np.newaxis].astype(np.float32) / 255.0

    def validation_accuracy() -> float:
        logits = np.concatenate([np.asarray(model(validation_images[start : start + 128], training=False)) for start in range(0, len(validation_images), 128)])
        return float((logits.argmax(axis=1) == labels[validation_index]).mean())

    before = validation_accuracy()
    recalibrate_batch_norm(model, images[train_index], seed)
    after = validation_accuracy()
    kept = after >= before
    if kept:
        save_inference_model(model, int(model.input_shape[1]), weights_file)
    report = {"validation_accuracy_before": before, "validation_accuracy_after": after, "kept": kept, "data": "training split, training augmentation, 2 passes, momentum 0.98"}
    (output_dir / config.BATCH_NORM_REPORT_NAME).write_text(json.dumps(report, indent=1) + "\n")
    return report


# Evaluation and checkpoints use an exponential moving average of the weights (~200 steps):
# it smooths the step-to-step noise that made validation accuracy swing between epochs.
EMA_MOMENTUM = 0.995


def compile_model(model, steps_per_epoch: int, epochs: int, learning_rate: float) -> None:
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate * 0.1,
        decay_steps=max(1, steps_per_epoch * epochs),
        warmup_target=learning_rate,
        warmup_steps=steps_per_epoch,
        alpha=0.02,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4, use_ema=True, ema_momentum=EMA_MOMENTUM),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def measure_training_speed(model, training, batches: int, batch_size: int) -> None:
    """Time `batches` training steps after two warm-up steps; print ms per image and epoch estimate."""
    iterator = iter(training)
    for _ in range(2):
        model.train_on_batch(*next(iterator))
    started = time.monotonic()
    for _ in range(batches):
        model.train_on_batch(*next(iterator))
    per_image = (time.monotonic() - started) / (batches * batch_size)
    print(f"measured: {per_image * 1000:.1f} ms per training image", flush=True)


def train(
    data_dir: Path,
    output_dir: Path,
    split_file: Path,
    cache_path: Path,
    image_size: int = config.IMAGE_SIZE,
    epochs: int = 30,
    batch_size: int = config.BATCH_SIZE,
    learning_rate: float = 2e-3,
    patience: int = 8,
    max_minutes: float = 70.0,
    measure_batches: int = 0,
    seed: int = config.SEED,
    initial_weights: Path | None = None,
    tissue_contrast_probability: float = 0.0,
) -> Path:
    """Full training run; returns the path of the saved best model.

    With `initial_weights` (a saved .keras model) training continues from those weights with a
    fresh learning-rate schedule, appends to the existing log, and only replaces the saved model
    when validation beats the starting point.
    """
    import keras

    from ml.data import load_cache, read_split, write_split
    from ml.model import build_model

    keras.utils.set_random_seed(seed)
    images_dir = data_dir / "brain-mri" / "Training"
    groups_file = data_dir / "brain-mri" / "duplicate_groups.tsv"
    split = read_split(split_file) if split_file.exists() else write_split(groups_file, split_file)
    cache = load_cache(images_dir, groups_file, image_size, cache_path)
    train_index, validation_index = split_indices(cache["paths"], split["validation"])
    print(f"data: {len(train_index)} training, {len(validation_index)} validation images at {image_size}px", flush=True)
    training, validation = make_datasets(cache["images"], cache["labels"], train_index, validation_index, batch_size, seed, tissue_contrast_probability)
    steps_per_epoch = max(1, len(train_index) // batch_size)

    model = build_model(image_size)
    compile_model(model, steps_per_epoch, epochs, learning_rate)
    first_epoch = 0
    if initial_weights is not None:
        model.set_weights(keras.models.load_model(initial_weights, compile=False).get_weights())
        log_file = output_dir / config.TRAINING_LOG_NAME
        first_epoch = len(log_file.read_text().strip().splitlines()) - 1 if log_file.exists() else 0
    print(f"model: {model.count_params():,} parameters", flush=True)
    if measure_batches:
        measure_training_speed(model, training, measure_batches, batch_size)
        return output_dir

    output_dir.mkdir(parents=True, exist_ok=True)
    weights_file = output_dir / config.WEIGHTS_FILE_NAME
    deadline = time.time() + max_minutes * 60
    checkpoint = make_best_checkpoint_callback(image_size, weights_file, patience, deadline)
    if initial_weights is not None:
        loss, accuracy = model.evaluate(validation, verbose=0)
        checkpoint.best_score = (round(float(accuracy), 5), -float(loss))
        print(f"resumed from {initial_weights}: val_loss {loss:.4f}, val_acc {accuracy:.4f}", flush=True)
    model.fit(
        training,
        validation_data=validation,
        initial_epoch=first_epoch,
        epochs=first_epoch + epochs,
        verbose=2,
        # SwapEMAWeights first: validation, the log and the checkpoint all see the averaged weights.
        callbacks=[
            keras.callbacks.SwapEMAWeights(swap_on_epoch=True),
            keras.callbacks.CSVLogger(str(output_dir / config.TRAINING_LOG_NAME), append=first_epoch > 0),
            checkpoint,
        ],
    )
    return weights_file


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=config.data_dir(), help="the shared data folder holding brain-mri/")
    parser.add_argument("--output-dir", type=Path, default=config.WEIGHTS_DIR)
    parser.add_argument("--split-file", type=Path, default=config.SPLIT_FILE, help="read if present, else written")
    parser.add_argument("--cache", type=Path, default=None, help="preprocessed .npz cache (default ml/.cache/training_<size>.npz)")
    parser.add_argument("--image-size", type=int, default=config.IMAGE_SIZE)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=config.BATCH_SIZE)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--patience", type=int, default=8)
    parser.add_argument("--max-minutes", type=float, default=70.0, help="wall-clock budget for fitting")
    parser.add_argument("--measure-batches", type=int, default=0, help="only time this many training steps")
    parser.add_argument("--initial-weights", type=Path, default=None, help="continue from this saved model (fresh schedule, log appended)")
    parser.add_argument(
        "--tissue-contrast-probability", type=float, default=0.0, help="fraction of training images given a random tissue grey-level map (second reader: 0.1)"
    )
    parser.add_argument("--recalibrate-batch-norm", action="store_true", help="only re-estimate batch-norm statistics of the saved model")
    arguments = parser.parse_args(argv)
    configure_tensorflow()
    from ml.data import default_cache_file

    cache_path = arguments.cache or default_cache_file(arguments.image_size)
    if arguments.recalibrate_batch_norm:
        print(recalibrate_saved_model(arguments.output_dir, arguments.split_file, cache_path))
        return
    result = train(
        data_dir=arguments.data_dir,
        output_dir=arguments.output_dir,
        split_file=arguments.split_file,
        cache_path=cache_path,
        image_size=arguments.image_size,
        epochs=arguments.epochs,
        batch_size=arguments.batch_size,
        learning_rate=arguments.learning_rate,
        patience=arguments.patience,
        max_minutes=arguments.max_minutes,
        measure_batches=arguments.measure_batches,
        initial_weights=arguments.initial_weights,
        tissue_contrast_probability=arguments.tissue_contrast_probability,
    )
    print(f"done: {result}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Train the NeuroScan CNN on every source at once.

    python -m ml.train --measure-batches 20                          # time a few steps first
    python -m ml.train --epochs 24 --max-minutes 80 --output-dir ml/.cache/runs/v2   # the real run
    python -m ml.train --resume --output-dir ml/.cache/runs/v2       # continue a cut-off run
    python -m ml.train --initial-weights FILE --epochs 11 ...        # a fresh schedule from saved weights
    python -m ml.train --hold-out-kinds head_ct ...                  # a leave-kind-out fold (ml.loko runs them)

Sources and their split come from ml.sources (written once to ml/artifacts/split_sources.json).
Each batch is drawn from three streams in fixed shares (config.SOURCE_MIX): Kaggle `brain-mri/`
(four classes), LGG (each sequence of a slice its own grey image: glioma or no tumour, same
patients and scanners on both sides) and `not-brain-mri/` (the fifth output, outlier exposure; the
held-out kinds never). LGG slices also train the segmentation head from their masks.

Every epoch the averaged (EMA) weights are measured on each source's validation side; the best
epoch by the mean of Kaggle 4-class accuracy, LGG balanced tumour accuracy, not-MRI validation
refusal and MRI acceptance is saved as <output-dir>/neuroscan_cnn.keras. The full state (with the
optimizer) is saved every epoch as checkpoint.keras, so --resume loses at most one epoch.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from ml import config

# Evaluation and checkpoints use an exponential moving average of the weights (~200 steps):
# it smooths the step-to-step noise that made validation accuracy swing between epochs.
EMA_MOMENTUM = 0.995
SEGMENTATION_LOSS_WEIGHT = 0.5
TISSUE_CONTRAST_PROBABILITY = 0.1  # random grey-level maps on 10 % of images: the sequence must not give the class away
STEPS_PER_EPOCH = 300
CHECKPOINT_NAME = "checkpoint.keras"
PROGRESS_NAME = "progress.json"


def segmentation_loss(targets, logits):
    """(B, h, w, 2) [lesion fraction, has-mask] and (B, h, w, 1) logits -> (B,) binary cross-entropy
    over the images that have a mask (zero for the others)."""
    import tensorflow as tf

    fraction, has_mask = targets[..., :1], targets[..., 1:]
    per_pixel = tf.nn.sigmoid_cross_entropy_with_logits(labels=fraction, logits=logits) * has_mask
    return tf.reduce_mean(per_pixel, axis=(1, 2, 3)) * 4.0  # lesions are small; rescaled to weigh like the class loss


def save_inference_model(model, image_size: int, path: Path) -> None:
    """Write the weights into a fresh, uncompiled model (no optimizer state: a smaller file), atomically."""
    from ml.model import build_model

    clean = build_model(image_size)
    clean.set_weights(model.get_weights())
    temporary = path.with_name(path.name + ".tmp.keras")
    clean.save(temporary)
    os.replace(temporary, path)


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
        loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True), segmentation_loss],
        loss_weights=[1.0, SEGMENTATION_LOSS_WEIGHT],
    )


def source_streams(cache: dict, records, batch_size: int, seed: int, tissue_contrast_probability: float):
    """-> an endless tf.data stream of (images (B, S, S, 1), (labels (B,), segmentation targets (B, S/8, S/8, 2))),
    each batch drawn from the training side of every source in config.SOURCE_MIX shares."""
    import tensorflow as tf

    from ml.augment import augment_batch_with_masks, random_jpeg
    from ml.sources import TRAIN

    cell = 8  # the last block works at S/8
    streams, weights = [], []
    for offset, (source, share) in enumerate(sorted(config.SOURCE_MIX.items())):
        index = np.array([i for i, record in enumerate(records) if record.source == source and record.side == TRAIN])
        if len(index) == 0:
            continue
        stream = (
            tf.data.Dataset.from_tensor_slices((cache["images"][index], cache["masks"][index], cache["has_mask"][index].astype(np.float32), cache["labels"][index]))
            .shuffle(len(index), seed=seed + offset, reshuffle_each_iteration=True)
            .repeat()
        )
        streams.append(stream)
        weights.append(share)

    def to_model_input(images, masks, has_mask, labels):
        images = tf.cast(images[..., tf.newaxis], tf.float32) / 255.0
        masks = tf.cast(masks[..., tf.newaxis], tf.float32) / 255.0
        images, masks = augment_batch_with_masks(images, masks, tissue_contrast_probability)
        fraction = tf.nn.avg_pool2d(masks, cell, cell, "VALID")  # (B, S/8, S/8, 1)
        valid = tf.ones_like(fraction) * has_mask[:, tf.newaxis, tf.newaxis, tf.newaxis]
        return images, (labels, tf.concat([fraction, valid], axis=-1))

    def jpeg_sometimes(images, masks, has_mask, labels):
        return tf.cast(tf.round(random_jpeg(images)[..., 0] * 255.0), tf.uint8), masks, has_mask, labels

    mixed = tf.data.Dataset.sample_from_datasets(streams, weights=[w / sum(weights) for w in weights], seed=seed)
    return (
        mixed.map(jpeg_sometimes, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size, drop_remainder=True)
        .map(to_model_input, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def validation_scores(model, cache: dict, records) -> dict:
    """Per-source validation figures of the model as it is now (plain argmax, no calibration)."""
    from ml.sources import VALIDATION

    validation = np.array([i for i, record in enumerate(records) if record.side == VALIDATION])
    images = cache["images"][validation][..., np.newaxis].astype(np.float32) / 255.0
    logits = np.concatenate([np.asarray(model(images[start : start + 128], training=False)[0]) for start in range(0, len(images), 128)])
    labels = cache["labels"][validation]
    sources = np.array([records[i].source for i in validation])
    refused = logits.argmax(axis=1) == config.NOT_MRI_INDEX
    diagnosis = logits[:, : len(config.CLASS_NAMES)].argmax(axis=1)
    no_tumour = config.CLASS_NAMES.index(config.NO_TUMOUR_CLASS)
    kaggle, lgg, not_mri = sources == "kaggle", sources == "lgg", sources == "not_mri"
    lgg_tumour, lgg_normal = lgg & (labels != no_tumour), lgg & (labels == no_tumour)
    scores = {
        "kaggle_accuracy": float((diagnosis[kaggle] == labels[kaggle]).mean()),
        "lgg_sensitivity": float((diagnosis[lgg_tumour] != no_tumour).mean()),
        "lgg_specificity": float((diagnosis[lgg_normal] == no_tumour).mean()),
        "not_mri_refused": float(refused[not_mri].mean()),
        "mri_refused": float(refused[kaggle | lgg].mean()),
    }
    scores["score"] = float(np.mean([scores["kaggle_accuracy"], (scores["lgg_sensitivity"] + scores["lgg_specificity"]) / 2, scores["not_mri_refused"], 1 - scores["mri_refused"]]))
    return scores


def make_epoch_callback(output_dir: Path, image_size: int, cache: dict, records, deadline: float, best_score: float | None):
    import keras

    class EpochEnd(keras.callbacks.Callback):
        """Measures every source, keeps the best epoch, writes the resumable checkpoint and the log."""

        def __init__(self):
            super().__init__()
            self.best_score = best_score
            self.started = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            scores = validation_scores(self.model, cache, records)  # EMA weights (SwapEMAWeights runs first)
            seconds = time.monotonic() - self.started
            improved = self.best_score is None or scores["score"] > self.best_score
            if improved:
                self.best_score = scores["score"]
                save_inference_model(self.model, image_size, output_dir / config.WEIGHTS_FILE_NAME)
            row = {"epoch": epoch + 1, "seconds": round(seconds), "loss": round(float(logs.get("loss", float("nan"))), 4), **{k: round(v, 4) for k, v in scores.items()}, "saved": improved}
            log_file = output_dir / config.TRAINING_LOG_NAME
            new_log = not log_file.exists()
            with open(log_file, "a") as handle:
                if new_log:
                    handle.write(",".join(row) + "\n")
                handle.write(",".join(str(value) for value in row.values()) + "\n")
            self.model.save(output_dir / (CHECKPOINT_NAME + ".tmp.keras"))
            os.replace(output_dir / (CHECKPOINT_NAME + ".tmp.keras"), output_dir / CHECKPOINT_NAME)
            (output_dir / PROGRESS_NAME).write_text(json.dumps({"epochs_done": epoch + 1, "best_score": self.best_score}) + "\n")
            print(json.dumps(row), flush=True)
            if time.time() + seconds > deadline:
                print("time budget spent: stopping before the next epoch would overrun it (resume with --resume)", flush=True)
                self.model.stop_training = True

    return EpochEnd()


def measure_training_speed(model, training, batches: int, batch_size: int) -> float:
    """Time `batches` training steps after two warm-up steps; -> ms per training image (also printed)."""
    iterator = iter(training)
    for _ in range(2):
        model.train_on_batch(*next(iterator))
    started = time.monotonic()
    for _ in range(batches):
        model.train_on_batch(*next(iterator))
    per_image = (time.monotonic() - started) / (batches * batch_size) * 1000.0
    print(json.dumps({"ms_per_training_image": round(per_image, 1), "seconds_per_epoch": round(per_image * STEPS_PER_EPOCH * batch_size / 1000.0)}), flush=True)
    return per_image


def train(
    data_dir: Path,
    output_dir: Path,
    image_size: int = config.IMAGE_SIZE,
    epochs: int = 24,
    batch_size: int = config.BATCH_SIZE,
    learning_rate: float = 2e-3,
    max_minutes: float = 80.0,
    measure_batches: int = 0,
    seed: int = config.SEED,
    resume: bool = False,
    initial_weights: Path | None = None,
    hold_out: tuple[str, ...] = (),
    records=None,
    steps_per_epoch: int = STEPS_PER_EPOCH,
    cache_path: Path | None = None,
) -> Path:
    """Full training run (or its continuation with `resume`); returns the path of the saved best model."""
    import keras

    from ml.data import load_sources_cache, sources_cache_file
    from ml.model import build_model
    from ml.sources import fold_kinds, hold_out_kinds, load_or_build_index, write_fold

    keras.utils.set_random_seed(seed)
    records = records if records is not None else load_or_build_index(data_dir)
    if resume:
        hold_out = fold_kinds(output_dir)  # a resumed fold keeps its kinds
    else:
        write_fold(output_dir, hold_out)
    records = hold_out_kinds(records, hold_out)
    cache = load_sources_cache(records, data_dir, image_size, cache_path or sources_cache_file(image_size))
    training = source_streams(cache, records, batch_size, seed, TISSUE_CONTRAST_PROBABILITY)
    output_dir.mkdir(parents=True, exist_ok=True)
    progress_file = output_dir / PROGRESS_NAME
    first_epoch, best_score = 0, None
    if resume and progress_file.exists():
        progress = json.loads(progress_file.read_text())
        first_epoch, best_score = progress["epochs_done"], progress["best_score"]
        model = keras.models.load_model(output_dir / CHECKPOINT_NAME, custom_objects={"segmentation_loss": segmentation_loss})
        print(f"resuming after epoch {first_epoch} (best score {best_score:.4f})", flush=True)
    else:
        model = build_model(image_size)
        compile_model(model, steps_per_epoch, epochs, learning_rate)
        if initial_weights is not None:  # a fresh schedule from saved weights (e.g. a run cut short to fit the time left)
            model.set_weights(keras.models.load_model(initial_weights, compile=False).get_weights())
            print(f"starting from the weights of {initial_weights}", flush=True)
    print(f"model: {model.count_params():,} parameters; {len(records)} records", flush=True)
    if measure_batches:
        measure_training_speed(model, training, measure_batches, batch_size)
        return output_dir
    deadline = time.time() + max_minutes * 60
    model.fit(
        training,
        steps_per_epoch=steps_per_epoch,
        initial_epoch=first_epoch,
        epochs=epochs,
        verbose=2,
        # SwapEMAWeights first: the per-source validation and the checkpoints see the averaged weights.
        callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True), make_epoch_callback(output_dir, image_size, cache, records, deadline, best_score)],
    )
    return output_dir / config.WEIGHTS_FILE_NAME


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=config.data_dir(), help="the shared data folder holding brain-mri/, lgg/, not-brain-mri/")
    parser.add_argument("--output-dir", type=Path, default=config.CACHE_DIR / "runs" / "v2")
    parser.add_argument("--image-size", type=int, default=config.IMAGE_SIZE)
    parser.add_argument("--epochs", type=int, default=24, help="total epochs of the schedule (a resumed run keeps its schedule)")
    parser.add_argument("--batch-size", type=int, default=config.BATCH_SIZE)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--max-minutes", type=float, default=80.0, help="wall-clock budget for this invocation")
    parser.add_argument("--measure-batches", type=int, default=0, help="only time this many training steps")
    parser.add_argument("--resume", action="store_true", help="continue from <output-dir>/checkpoint.keras")
    parser.add_argument("--initial-weights", type=Path, default=None, help="start a fresh schedule from this saved model's weights")
    parser.add_argument("--hold-out-kinds", default="", help="comma-separated not-MRI kinds to hold out as well (a leave-kind-out fold; see ml.loko)")
    arguments = parser.parse_args(argv)
    from ml.runtime import configure_tensorflow

    configure_tensorflow()
    result = train(
        data_dir=arguments.data_dir,
        output_dir=arguments.output_dir,
        image_size=arguments.image_size,
        epochs=arguments.epochs,
        batch_size=arguments.batch_size,
        learning_rate=arguments.learning_rate,
        max_minutes=arguments.max_minutes,
        measure_batches=arguments.measure_batches,
        resume=arguments.resume,
        initial_weights=arguments.initial_weights,
        hold_out=tuple(kind for kind in arguments.hold_out_kinds.split(",") if kind),
    )
    print(f"done: {result}", file=sys.stderr)


if __name__ == "__main__":
    main()

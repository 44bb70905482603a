"""Every constant of the ml package lives here, so training and inference cannot drift apart."""

import os
from pathlib import Path

# --- Classes -----------------------------------------------------------------------------
CLASS_NAMES = ("glioma", "meningioma", "notumor", "pituitary")
NO_TUMOUR_CLASS = "notumor"
# The network has a fifth output for "not a brain MRI", learnt from real examples (outlier
# exposure with not-brain-mri/). It is never a diagnosis: a slice whose fifth output wins is refused.
NOT_MRI_CLASS = "not_mri"
NETWORK_CLASSES = CLASS_NAMES + (NOT_MRI_CLASS,)
NOT_MRI_INDEX = NETWORK_CLASSES.index(NOT_MRI_CLASS)

# --- Model input ---------------------------------------------------------------------------
IMAGE_SIZE = 160  # the model sees one (IMAGE_SIZE, IMAGE_SIZE, 1) grey slice
LAST_CONV_LAYER_NAME = "last_conv"  # Grad-CAM target: output of the last convolutional block (S/8 = 20x20)
LOGITS_LAYER_NAME = "logits"  # (B, 5) class logits, NETWORK_CLASSES order
SEGMENTATION_LAYER_NAME = "segmentation"  # (B, 20, 20, 1) lesion logits, trained from the LGG masks
FEATURE_LAYER_NAME = "features"  # penultimate (pooled) features
# Layers whose spatially averaged activations, concatenated, feed the OOD check. The mid-level
# block describes local structure (tissue texture, edges, contrast patterns); on an intermediate
# checkpoint it separated non-MRI pictures far better than the class-tuned last block.
OOD_FEATURE_LAYERS = ("stage3_relu1", "stage3_relu2")
MODEL_VERSION = "neuroscan-cnn-1.4.3"

# --- Preprocessing -------------------------------------------------------------------------
# A pixel belongs to the head when it is brighter than this fraction of the image's
# 99th-percentile intensity; the bounding box of such pixels is the crop box.
MARGIN_THRESHOLD_FRACTION = 0.08
# Intensities are rescaled per image between these percentiles of the cropped picture, so
# scanner/collection-specific brightness and contrast do not reach the network.
NORMALISE_LOW_PERCENTILE = 0.5
NORMALISE_HIGH_PERCENTILE = 99.5

# --- Paths -----------------------------------------------------------------------------------
ML_DIR = Path(__file__).resolve().parent
REPO_ROOT = ML_DIR.parent
WEIGHTS_DIR = ML_DIR / "weights"
WEIGHTS_FILE_NAME = "neuroscan_cnn.keras"
CALIBRATION_FILE_NAME = "calibration.json"  # temperature + abstain threshold
OOD_FILE_NAME = "ood.npz"  # Mahalanobis statistics of training features
MODEL_CARD_JSON_NAME = "model_card.json"
TRAINING_LOG_NAME = "training_log.csv"
BATCH_NORM_REPORT_NAME = "batch_norm_recalibration.json"  # validation accuracy before/after re-estimation
ARTIFACTS_DIR = ML_DIR / "artifacts"
SPLIT_FILE = ARTIFACTS_DIR / "split.json"
# Duplicate groups whose label looks wrong on the picture; reported beside the metrics, never relabelled.
SUSPECTED_LABEL_ERRORS_FILE = ARTIFACTS_DIR / "suspected_label_errors.json"
# Validation tumour slices on another sequence than T1 (T2, FLAIR), found by eye: a small
# measured sample of the largest known risk (tumours elsewhere are mostly T1 with contrast).
OTHER_SEQUENCE_TUMOURS_FILE = ARTIFACTS_DIR / "other_sequence_tumours.json"
CACHE_DIR = ML_DIR / ".cache"


def data_dir() -> Path:
    """The shared `data` directory (holding brain-mri/); NEUROSCAN_DATA_DIR overrides it."""
    override = os.environ.get("NEUROSCAN_DATA_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data"


def lgg_dir() -> Path:
    return data_dir() / "lgg"


def not_mri_dir() -> Path:
    return data_dir() / "not-brain-mri"


def training_images_dir() -> Path:
    return data_dir() / "brain-mri" / "Training"


def duplicate_groups_file() -> Path:
    return data_dir() / "brain-mri" / "duplicate_groups.tsv"


# --- Training sources ---------------------------------------------------------------------------
LOKO_FILE = ARTIFACTS_DIR / "loko.json"  # leave-one-kind-out folds measured so far (ml.loko)
SPLIT_V2_FILE = ARTIFACTS_DIR / "split_sources.json"  # every source's train / validation / held-out assignment
LGG_VALIDATION_FRACTION = 0.2  # of each institution's patients (at least one patient per institution)
NOT_MRI_VALIDATION_FRACTION = 0.2
# Kinds of not-brain-mri/ never used for training nor for choosing a threshold: the honest estimate
# of refusing a kind the model has never seen. Each has relatives in training (other X-rays, other
# CT, other photographs, other screen/paper images), as kinds in the wild would.
FOLD_FILE_NAME = "fold.json"  # a leave-kind-out run's extra held-out kinds, in its run folder
HELD_OUT_NOT_MRI_KINDS = ("knee_xray", "abdomen_ct", "dermoscopy", "document")
# Kinds with two source collections are split by source: validation is the other collection.
NOT_MRI_VALIDATION_SOURCES = {"head_ct": "MinaMelek/brain-ct-abnormality", "dental_xray": "Ahmedhamed3/landmark-xray-dataset"}
# Share of each training batch drawn from each source (sampled with replacement from each stream).
SOURCE_MIX = {"kaggle": 0.45, "lgg": 0.40, "not_mri": 0.15}
LGG_MATCHED_BRAIN_AREA = 0.7  # "brain-area matched" LGG metrics use slices at or above this fraction

# --- Training --------------------------------------------------------------------------------
SEED = 1234
VALIDATION_FRACTION = 0.15
BATCH_SIZE = 32
CPU_THREADS = 2

# --- Abstention / out-of-distribution ----------------------------------------------------------
ECE_BINS = 15
# Cheap input checks that run before the network: images the model must not judge at all.
MIN_IMAGE_SIDE = 48  # pixels
MAX_ASPECT_RATIO = 2.5  # long side / short side
MIN_INTENSITY_RANGE = 0.02  # 0.5-99.5 percentile spread, as a fraction of full scale: below it an image is blank
# A brain MRI is grey; a few training files are tinted. An image is refused as coloured when
# more than this fraction of its pixels are strongly saturated.
SATURATED_PIXEL_FRACTION = 0.10
SATURATION_LEVEL = 0.35  # HSV saturation counted as "strong"
# OOD threshold = this percentile of the combined Mahalanobis score of clean + augmented MRIs.
OOD_PERCENTILE = 99.5

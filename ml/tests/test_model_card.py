"""The committed model card: its Markdown is rendered from its JSON, and its numbers read as the code computes them."""

import json

from ml import config
from ml.model_card import MARKDOWN_FILE, kaggle_validation_summary, render_markdown


def test_the_committed_markdown_is_the_rendering_of_the_committed_json():
    card = json.loads((config.WEIGHTS_DIR / config.MODEL_CARD_JSON_NAME).read_text())
    assert render_markdown(card) == MARKDOWN_FILE.read_text()


def test_the_card_is_for_the_committed_weights():
    from ml.model_card import sha256_of

    card = json.loads((config.WEIGHTS_DIR / config.MODEL_CARD_JSON_NAME).read_text())
    assert card["version"] == config.MODEL_VERSION
    assert card["weights_sha256"] == sha256_of(config.WEIGHTS_DIR / config.WEIGHTS_FILE_NAME)
    assert card["clinician_limitations"] and all("table" not in line and "notumor" not in line for line in card["clinician_limitations"])


def test_the_kaggle_section_is_evaluate_s_summary_of_the_kaggle_rows():
    rows = [
        {"source": "kaggle", "path": "glioma/a.jpg", "truth": "glioma", "predicted": "notumor", "abstained": False, "abstain_kind": None, "latency_ms": 5.0, "probabilities": [0.1, 0.1, 0.7, 0.1]},
        {"source": "kaggle", "path": "notumor/b.jpg", "truth": "notumor", "predicted": "notumor", "abstained": False, "abstain_kind": None, "latency_ms": 5.0, "probabilities": [0.1, 0.1, 0.7, 0.1]},
        {"source": "lgg", "path": "images/x.jpg", "truth": "glioma", "predicted": "glioma", "abstained": False, "abstain_kind": None, "latency_ms": 5.0, "probabilities": [0.1, 0.1, 0.7, 0.1]},
    ]
    summary = kaggle_validation_summary(rows, "test")
    assert summary["n_images"] == 2 and summary["binary"]["silent_miss"] == {"count": 1, "rate": 1.0}

"""Words for the model's labels, written for the person reading a result (presentation only)."""

from ml.config import CLASS_NAMES

LABEL_NAMES = {
    "glioma": "Glioma",
    "meningioma": "Meningioma",
    "notumor": "No tumour detected",
    "pituitary": "Pituitary tumour",
}

LABEL_EXPLANATIONS = {
    "glioma": (
        "A tumour that grows from the glial (supporting) cells of the brain itself, usually within the "
        "brain tissue. The model saw a pattern resembling gliomas in its training images."
    ),
    "meningioma": (
        "A usually slow-growing tumour arising from the meninges, the membranes around the brain, so it "
        "typically sits at the brain's surface. The model saw a pattern resembling meningiomas."
    ),
    "notumor": (
        "The model found no pattern resembling the three tumour types it knows (glioma, meningioma, "
        "pituitary). It cannot rule out other conditions it was never trained on."
    ),
    "pituitary": (
        "A tumour of the pituitary gland, at the base of the brain behind the nose, usually benign. "
        "The model saw a pattern resembling pituitary tumours in that region."
    ),
}

assert set(LABEL_NAMES) == set(CLASS_NAMES) == set(LABEL_EXPLANATIONS), "labels out of step with ml.config"


def label_name(label: str | None) -> str:
    return LABEL_NAMES.get(label or "", label or "")

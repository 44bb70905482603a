"""Words and numbers a clinician reads about a model output: one place for the portal, the PDF and the API.

Pure Python (no Django): ml.inference writes its abstain reasons with these, and the portal formats
every probability it shows with `format_probability`.
"""

# Why the model did not give a plain answer; ClassificationResult.abstain_kind is one of these (or None).
NOT_MRI = "not_mri"  # the image must not be judged: bad input, or not a brain MRI
UNSURE = "unsure"  # the model's top class is not certain enough
SECOND_READER = "second_reader"  # 1.2.0 only (its second reader); kept for predictions recorded by it
NO_TUMOUR_UNCONFIRMED = "no_tumour_unconfirmed"  # "no tumour" needs more certainty than a tumour answer
ABSTAIN_KINDS = (NOT_MRI, UNSURE, SECOND_READER, NO_TUMOUR_UNCONFIRMED)

CLASS_WORDS = {"glioma": "glioma", "meningioma": "meningioma", "notumor": "no tumour", "pituitary": "pituitary tumour"}


def format_probability(probability: float) -> str:
    """0.996 -> '> 99 %', 0.004 -> '< 1 %', 0.512 -> '51 %'. A model output is never shown as 0 % or 100 %."""
    percent = float(probability) * 100.0
    if percent > 99.0:
        return "> 99 %"
    if percent < 1.0:
        return "< 1 %"
    return f"{round(percent):.0f} %"


def top_classes_sentence(probabilities: dict[str, float], count: int = 2) -> str:
    """{class: p} -> 'glioma 51 %, meningioma 40 %' (the `count` most likely classes)."""
    ranked = sorted(probabilities.items(), key=lambda item: item[1], reverse=True)[:count]
    return ", ".join(f"{CLASS_WORDS.get(name, name)} {format_probability(value)}" for name, value in ranked)


def unsure_reason(probabilities: dict[str, float]) -> str:
    return f"The model is unsure: {top_classes_sentence(probabilities)}. A person should read this slice."


def unfamiliar_reason(probabilities: dict[str, float]) -> str:
    return (
        f"The model suggests {top_classes_sentence(probabilities, count=1)}, but this slice looks unlike the brain MRIs "
        "it was trained on. A person should read this slice."
    )


def not_mri_reason() -> str:
    return "This image does not look like a brain MRI slice, so the model did not analyse it."


def second_reader_reason(label: str) -> str:
    return f"Another reading found signs of a tumour ({CLASS_WORDS.get(label, label)}); a person should look at this slice."


def no_tumour_unconfirmed_reason(probabilities: dict[str, float]) -> str:
    return (
        "The model leans towards no tumour but is not certain enough to say so "
        f"({top_classes_sentence(probabilities)}); a person should look at this slice."
    )

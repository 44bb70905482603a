"""What a clinician reading one report should know about the model, in a few plain sentences.

The model card's own "limitations" are written for people who read the whole card (they refer to
its tables and probes). A report shows the card's optional "clinician_limitations" (a list of
sentences) when the card has it, else these.
"""

CLINICIAN_LIMITATIONS = (
    "The model reads one 2-D slice at a time. One slice can neither rule a tumour in nor rule it out.",
    "It knows only glioma, meningioma, pituitary tumour and no tumour. Other findings (other tumours, stroke, "
    "bleeding, changes after surgery) are not recognised and may be reported as one of these four.",
    "It was trained and checked on public research images, mostly contrast-enhanced T1 slices. On other scanners, "
    "sequences (T2, FLAIR) and patient groups it is likely to be less accurate; its published accuracy is optimistic.",
    "The training labels were not checked by a radiologist.",
    "It has not been validated clinically. A qualified reader must review every result.",
)


def clinician_limitations(model_card: dict) -> list[str]:
    """The card's clinician text when it has one (a non-empty list of strings), else the text above."""
    chosen = model_card.get("clinician_limitations")
    if isinstance(chosen, list) and chosen and all(isinstance(item, str) and item.strip() for item in chosen):
        return [item.strip() for item in chosen]
    return list(CLINICIAN_LIMITATIONS)

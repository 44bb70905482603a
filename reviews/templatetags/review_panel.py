from django import template

from reviews.drafts import review_draft_take
from reviews.models import ReviewDecision
from reviews.selectors import reviews_for_scan
from scans.labels import LABEL_NAMES, label_name

register = template.Library()

_DECISION_WORDS = {
    ReviewDecision.CONFIRMED: "AI result confirmed",
    ReviewDecision.OVERRIDDEN: "AI result overridden",
    ReviewDecision.UNUSABLE: "marked unusable",
}


def _summary(review) -> str:
    if review.decision == ReviewDecision.UNUSABLE:
        return "Not a brain MRI / unusable image"
    verb = "Confirmed" if review.decision == ReviewDecision.CONFIRMED else "Overridden"
    return f"{verb}: {label_name(review.final_label)}"


@register.inclusion_tag("reviews/_panel.html", takes_context=True)
def review_panel(context, scan, prediction) -> dict:
    """The review history of a finished scan (each earlier review marked superseded) and the review form."""
    reviews = reviews_for_scan(scan=scan)
    for number, review in enumerate(reviews, start=1):
        review.final_label_name = label_name(review.final_label)
        review.summary = _summary(review)
        review.decision_words = _DECISION_WORDS.get(review.decision, review.decision)
        review.superseded = number < len(reviews)
    refused = prediction.refused_as_not_mri
    is_reviewer = context.get("user_is_reviewer")  # lazy: a callable from accounts.context_processors
    return {
        "scan": scan,
        "prediction": prediction,
        "reviews": reviews,
        "standing": reviews[-1] if reviews else None,
        "refused": refused,
        "ai_label_name": label_name(prediction.label),
        # A refusal gave no label, so every class may be chosen; otherwise the AI's own is "confirm".
        "label_choices": [(value, name) for value, name in LABEL_NAMES.items() if refused or value != prediction.label],
        "show_next": bool(is_reviewer() if callable(is_reviewer) else is_reviewer),
        "draft": review_draft_take(request=context.get("request"), scan_id=scan.id),
        "csrf_token": context.get("csrf_token"),
    }

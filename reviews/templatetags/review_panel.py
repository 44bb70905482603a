from django import template

from reviews.drafts import review_draft_take
from reviews.forms import ReviewForm
from reviews.selectors import reviews_for_scan
from scans.labels import label_name

register = template.Library()


@register.inclusion_tag("reviews/_panel.html", takes_context=True)
def review_panel(context, scan, prediction) -> dict:
    """The review history of a finished scan and, for its owner or a reviewer, the review form."""
    reviews = reviews_for_scan(scan=scan)
    for review in reviews:
        review.final_label_name = label_name(review.final_label)
    return {
        "scan": scan,
        "prediction": prediction,
        "reviews": reviews,
        "standing": reviews[-1] if reviews else None,
        "form": ReviewForm(),
        "draft": review_draft_take(request=context.get("request"), scan_id=scan.id),
        "csrf_token": context.get("csrf_token"),
    }

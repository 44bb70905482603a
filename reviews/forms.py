from django import forms

from reviews.models import ReviewDecision
from scans.labels import LABEL_NAMES


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=ReviewDecision.choices, widget=forms.RadioSelect)
    override_label = forms.ChoiceField(
        required=False, choices=[("", "—"), *LABEL_NAMES.items()], label="Replace the AI label with"
    )
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), label="Note")

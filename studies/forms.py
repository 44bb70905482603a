from django import forms

from reviews.models import ReviewDecision
from studies.answer import FINDING_CHOICES


class StudyUploadForm(forms.Form):
    """The fields of a study upload besides the files themselves (read with request.FILES.getlist)."""

    patient_reference = forms.CharField(
        required=False,
        max_length=64,
        label="Patient reference (optional)",
        help_text="Your own pseudonymous reference, e.g. a study code. Do not type names or record numbers.",
    )
    note = forms.CharField(required=False, max_length=500, label="Note (optional)", widget=forms.TextInput)


class StudyReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=ReviewDecision.choices)
    override_finding = forms.ChoiceField(required=False, choices=[("", "—"), *FINDING_CHOICES])
    note = forms.CharField(required=False, max_length=2000)

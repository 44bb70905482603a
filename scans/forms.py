from django import forms

from scans.labels import LABEL_NAMES
from scans.models import ScanStatus
from scans.selectors import HistoryFilters


class UploadForm(forms.Form):
    """The fields of an upload besides the files themselves (read with request.FILES.getlist)."""

    patient_reference = forms.CharField(
        required=False,
        max_length=64,
        label="Patient reference (optional)",
        help_text="Your own pseudonymous reference, e.g. a study code. Do not type names or record numbers.",
    )
    note = forms.CharField(required=False, max_length=500, label="Note (optional)", widget=forms.TextInput)


class HistoryFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    label = forms.ChoiceField(required=False, choices=[("", "Any label"), *LABEL_NAMES.items()])
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ScanStatus.choices])
    abstained = forms.ChoiceField(
        required=False, choices=[("", "Review: any"), ("yes", "Needs review"), ("no", "Confident")], label="Review"
    )
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def to_filters(self) -> HistoryFilters:
        if not self.is_valid():
            return HistoryFilters()
        data = self.cleaned_data
        abstained = {"yes": True, "no": False}.get(data["abstained"])
        return HistoryFilters(
            label=data["label"],
            status=data["status"],
            abstained=abstained,
            date_from=data["date_from"],
            date_to=data["date_to"],
            query=data["q"].strip(),
        )

from django import forms

from scans.labels import LABEL_NAMES
from scans.answer import AnswerState
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
    # Both read the scan's answer (scans.answer): the final label, and the state.
    label = forms.ChoiceField(required=False, choices=[("", "Any label"), *LABEL_NAMES.items()])
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *AnswerState.CHOICES])
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, states: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if states is not None:  # the worklist offers only the states it lists
            self.fields["state"].choices = [("", "Any state"), *((s, AnswerState.NAMES[s]) for s in states)]

    def to_filters(self) -> HistoryFilters:
        """The valid filters; an invalid one is left out (and named by invalid_filter_labels), not the lot."""
        self.is_valid()
        data = {"q": "", "label": "", "state": "", "date_from": None, "date_to": None}
        data |= getattr(self, "cleaned_data", {})
        return HistoryFilters(
            label=data["label"],
            state=data["state"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            query=(data["q"] or "").strip(),
        )

    def invalid_filter_labels(self) -> list[str]:
        return [str(self.fields[name].label or name) for name in self.errors if name in self.fields]

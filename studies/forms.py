from django import forms


class StudyUploadForm(forms.Form):
    """The fields of a study upload besides the files themselves (read with request.FILES.getlist)."""

    patient_reference = forms.CharField(
        required=False,
        max_length=64,
        label="Patient reference (optional)",
        help_text="Your own pseudonymous reference, e.g. a study code. Do not type names or record numbers.",
    )
    note = forms.CharField(required=False, max_length=500, label="Note (optional)", widget=forms.TextInput)

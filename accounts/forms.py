from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm


class RegistrationForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Used only to reset your password.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken. Choose another one.")
        return username

    def clean_email(self) -> str:
        # No "this address has an account" error: registration is open, and that answer would let
        # anyone test which addresses are clinicians here. The address's owner is told by mail instead
        # (accounts.services.user_register).
        return self.cleaned_data["email"].strip().lower()

"""The + New Secret form: a description and an expiry (30/60/90/180 days, never, or custom days)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms

from keys.secrets.rules import DESCRIPTION_MAX_LENGTH, MAX_EXPIRY_DAYS

EXPIRY_CHOICES = [
    ("30", "30 days"),
    ("60", "60 days"),
    ("90", "90 days"),
    ("180", "180 days"),
    ("never", "Never expires"),
    ("custom", "Custom"),
]
DEFAULT_EXPIRY = "90"


class SecretCreateForm(forms.Form):
    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        strip=True,
        help_text="Where this secret is used, e.g. “CI pipeline”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "No description"}),
    )
    expiry = forms.ChoiceField(choices=EXPIRY_CHOICES, initial=DEFAULT_EXPIRY, label="Expiry")
    custom_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        label="Custom expiry (days)",
        help_text=f"1 to {MAX_EXPIRY_DAYS} days; used when Expiry is Custom.",
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_EXPIRY_DAYS, "inputmode": "numeric"}),
    )

    def __init__(self, *args, prefix: str | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")  # labels end without a colon
        super().__init__(*args, prefix=prefix, **kwargs)
        # Ids stay unique when the form appears once per key on a page.
        self.fields["expiry"].widget.attrs["data-secret-expiry"] = ""
        self.fields["custom_days"].widget.attrs["data-secret-custom-days"] = ""

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("expiry") == "custom"
            and cleaned.get("custom_days") is None
            and "custom_days" not in self.errors
        ):
            self.add_error(
                "custom_days", f"Enter a number of days from 1 to {MAX_EXPIRY_DAYS} for a custom expiry."
            )
        return cleaned

    def expires_at(self, now: datetime) -> datetime | None:
        """The chosen expiry as a moment (None = never expires). Call after ``is_valid()``."""
        choice = self.cleaned_data["expiry"]
        if choice == "never":
            return None
        days = self.cleaned_data["custom_days"] if choice == "custom" else int(choice)
        return now + timedelta(days=days)

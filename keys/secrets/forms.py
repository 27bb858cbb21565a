"""The + New Secret form: a description and an expiry (30/60/90/180 days, never, or custom days)."""

from __future__ import annotations

from datetime import datetime

from django import forms

from keys.page_widgets import RENDERER
from keys.secrets.rules import (
    DEFAULT_EXPIRY_CHOICE,
    DESCRIPTION_MAX_LENGTH,
    EXPIRY_CHOICES,
    MAX_EXPIRY_DAYS,
    expiry_from_choice,
)


class SecretCreateForm(forms.Form):
    default_renderer = RENDERER  # widgets, labels and errors written in Python (issue 14)

    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        strip=True,
        help_text="Where this secret is used, e.g. “CI pipeline”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "No description"}),
    )
    expiry = forms.ChoiceField(choices=EXPIRY_CHOICES, initial=DEFAULT_EXPIRY_CHOICE, label="Expiry")
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
        return expiry_from_choice(self.cleaned_data["expiry"], self.cleaned_data["custom_days"], now=now)

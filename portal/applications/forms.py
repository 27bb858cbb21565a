"""Forms of the applications pages and the API tokens page. Rules live in ``portal.applications.services``."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from portal.applications import services
from portal.models import ApplicationAttribute, TokenType

ATTRIBUTE_PREFIX = "attribute_"


class PortalForm(forms.Form):
    """A form whose labels have no trailing colon: our pages put each label above its input."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ApplicationForm(PortalForm):
    name = forms.CharField(
        max_length=services.NAME_MAX_LENGTH,
        help_text=f"1 to {services.NAME_MAX_LENGTH} characters, unique among your applications.",
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    description = forms.CharField(
        required=False,
        max_length=services.DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"Optional, at most {services.DESCRIPTION_MAX_LENGTH} characters.",
    )
    token_type = forms.ChoiceField(
        choices=TokenType.choices,
        initial=TokenType.JWT,
        widget=forms.RadioSelect,
        label="Token type",
        help_text="JWT: self-contained signed tokens. OAuth: opaque reference tokens checked by introspection.",
    )

    def __init__(self, *args, application=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin's application attributes, one field each (hidden ones are the admins' alone).
        self.attributes = list(ApplicationAttribute.objects.filter(hidden=False))
        current = (application.attributes or {}) if application is not None else {}
        for attribute in self.attributes:
            self.fields[f"{ATTRIBUTE_PREFIX}{attribute.pk}"] = forms.CharField(
                label=attribute.name,
                required=attribute.required and not attribute.default,
                max_length=services.ATTRIBUTE_VALUE_MAX_LENGTH,
                initial=current.get(attribute.name, attribute.default),
                help_text=attribute.description,
            )

    def clean_name(self) -> str:
        try:
            return services.clean_application_name(self.cleaned_data["name"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def attribute_values(self) -> dict[str, str]:
        return {a.name: self.cleaned_data.get(f"{ATTRIBUTE_PREFIX}{a.pk}") or "" for a in self.attributes}

    def save(self, *, user, application=None):
        """Create an application for ``user``, or update ``application``; a duplicate name becomes
        a field error.

        Returns the application, or None when the form got an error instead.
        """
        data = self.cleaned_data
        try:
            if application is None:
                return services.application_create(
                    owner=user,
                    name=data["name"],
                    description=data["description"],
                    token_type=data["token_type"],
                    attributes=self.attribute_values(),
                )
            return services.application_update(
                application=application,
                actor=user,
                name=data["name"],
                description=data["description"],
                token_type=data["token_type"],
                throttling_policy=application.throttling_policy,
                attributes=self.attribute_values(),
            )
        except services.DuplicateApplicationName as exc:
            self.add_error(
                "name", f"You already have an application named '{exc.name}'. Choose another name."
            )
        except ValidationError as exc:
            self.add_error(None, ValidationError(exc.messages))
        return None


class ApiTokenForm(PortalForm):
    name = forms.CharField(
        max_length=100,
        help_text="What the token is for, e.g. “CI deploy”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    days = forms.TypedChoiceField(coerce=int, label="Expires in", choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lifetimes = services.api_token_lifetime_choices()
        self.fields["days"].choices = [(d, f"{d} days") for d in lifetimes]
        self.fields["days"].initial = 90 if 90 in lifetimes else lifetimes[-1]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter a name for the token.")
        return name

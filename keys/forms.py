"""Forms of the keys page: Key Configurations (generate / update), existing keys, access tokens.

The forms only parse what the browser sends; the rules live in ``keys.config.clean_key_config``
and the services, whose field messages the forms put next to the right field.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from keymanagers.base import KeyManagerAdapter
from keymanagers.models import REDIRECT_GRANT_TYPES, GrantType
from keys.config import (
    CALLBACK_MAX_LENGTH,
    EXPIRY_DEFAULTS,
    EXPIRY_FIELDS,
    clean_key_config,
    config_from_key,
    grant_type_label,
    unsupported_fields,
)
from keys.page_widgets import RENDERER
from keys.secrets.rules import (
    DEFAULT_EXPIRY_CHOICE,
    DESCRIPTION_MAX_LENGTH,
    EXPIRY_CHOICES,
    MAX_EXPIRY_DAYS,
    expiry_from_choice,
)

# Short, under the fieldset legend "Token expiry times (seconds)": long labels wrap to two lines
# in a narrow column and push their inputs out of line with the others.
EXPIRY_LABELS = {
    "application_access_token_expiry_time": "Application token",
    "user_access_token_expiry_time": "User token",
    "refresh_token_expiry_time": "Refresh token",
    "id_token_expiry_time": "ID token",
}
# Ticked on a fresh form: what most server-to-server applications need, nothing that needs a callback.
DEFAULT_GRANT_TYPES = (GrantType.CLIENT_CREDENTIALS, GrantType.REFRESH_TOKEN)


class NoColonLabels:
    """Labels without Django's trailing colon (``label_suffix``), as in the rest of the portal."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def focus_first_error(form: forms.Form | None) -> None:
    """Give the first field with an error ``autofocus``, so the browser (or the dialog that opens
    on load) puts the cursor where the fix is needed."""
    if form is None or not form.is_bound or not form.errors:
        return
    name = next((n for n in form.fields if n in form.errors), None)
    if name is not None:
        form.fields[name].widget.attrs["autofocus"] = True


def put_errors(form: forms.Form, error: ValidationError) -> None:
    """Attach a service's ``{field: [messages]}`` to the form's fields (or to the form)."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for name, messages in error.message_dict.items():
        field = name if name in form.fields else None
        if name.startswith("additional_properties."):
            candidate = "ap_" + name.split(".", 1)[1]
            field = candidate if candidate in form.fields else None
        for message in messages:
            form.add_error(field, message)


class KeyConfigForm(NoColonLabels, forms.Form):
    """Key Configurations: grant types, callback URL, expiry times, PKCE, public client."""

    default_renderer = RENDERER  # widgets, labels and errors written in Python (issue 14)

    grant_types = forms.MultipleChoiceField(
        label="Grant types", widget=forms.CheckboxSelectMultiple, required=False
    )
    callback_url = forms.CharField(
        label="Callback URL",
        required=False,
        max_length=CALLBACK_MAX_LENGTH,
        help_text="Required for Code and Implicit. Several URLs separated by spaces or commas, "
        "or one regexp=<regular expression>.",
    )
    application_access_token_expiry_time = (
        forms.IntegerField()
    )  # the fieldset explains the unit and negatives
    user_access_token_expiry_time = forms.IntegerField()  # the fieldset explains the unit and negatives
    refresh_token_expiry_time = forms.IntegerField()  # the fieldset explains the unit and negatives
    id_token_expiry_time = forms.IntegerField()  # the fieldset explains the unit and negatives
    pkce_mandatory = forms.BooleanField(label="Enable PKCE", required=False)
    pkce_support_plain = forms.BooleanField(
        label="Support PKCE Plain Text",
        required=False,
        help_text="Otherwise only the S256 code challenge method is accepted.",
    )
    bypass_client_credentials = forms.BooleanField(
        label="Public client", required=False, help_text="Allow authentication without the client secret."
    )

    def __init__(self, *args, adapter: KeyManagerAdapter, key=None, **kwargs):
        self.adapter = adapter
        self.key_config = None
        if key is not None and "initial" not in kwargs:
            initial = config_from_key(key)
            initial.update({f"ap_{k}": v for k, v in initial.pop("additional_properties").items()})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        available = adapter.available_grant_types()
        self.fields["grant_types"].choices = [(g, grant_type_label(g)) for g in available]
        if key is None:
            self.fields["grant_types"].initial = adapter.default_grant_types()
            for name in EXPIRY_FIELDS:
                self.fields[name].initial = EXPIRY_DEFAULTS[name]
        for name in EXPIRY_FIELDS:
            self.fields[name].label = EXPIRY_LABELS[name]
        # The grant types whose checkbox enables the callback URL field (static/js/keys.js).
        self.redirect_grant_types = " ".join(sorted(g for g in REDIRECT_GRANT_TYPES if g in available))
        self.fields["callback_url"].widget.attrs["data-callback-url"] = ""
        # What this key manager cannot honour is shown disabled, at its default, with the reason.
        for name, (reason, default) in unsupported_fields(adapter).items():
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].help_text = reason
                self.fields[name].widget.attrs["data-unsupported"] = ""
                self.initial[name] = default
        self.extra_fields = []
        for item in adapter.application_configuration():
            name = item.get("name")
            if not name:
                continue
            field = self._extra_field(item)
            self.fields[f"ap_{name}"] = field
            self.extra_fields.append(f"ap_{name}")

    @staticmethod
    def _extra_field(item: dict) -> forms.Field:
        common = {
            "label": item.get("label") or item["name"],
            "required": False,  # checked by clean_key_config, with its own message
            "help_text": item.get("tooltip", ""),
            "initial": item.get("default"),
        }
        if item.get("values"):
            choices = [("", "—")] + [(str(v), str(v)) for v in item["values"] if v not in (None, "")]
            return forms.ChoiceField(choices=choices, **common)
        if item.get("type") in ("checkbox", "boolean"):
            return forms.BooleanField(**common)
        return forms.CharField(max_length=500, **common)

    def callback_enabled(self) -> bool:
        """Whether the callback URL field starts enabled (a redirect grant type is ticked)."""
        value = self["grant_types"].value() or []
        return bool(REDIRECT_GRANT_TYPES.intersection(value))

    def config_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.base_fields if name in self.cleaned_data}
        data["additional_properties"] = {
            name[3:]: self.cleaned_data.get(name)
            for name in self.extra_fields
            if self.cleaned_data.get(name) not in (None, "")
        }
        return data

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.key_config = clean_key_config(self.config_data(), adapter=self.adapter)
        except ValidationError as exc:
            put_errors(self, exc)
        return cleaned


class GenerateKeysForm(KeyConfigForm):
    """Key Configurations plus, in multiple-secret mode, the first secret's description and expiry."""

    # The same labels as + New Secret's (keys.secrets.forms): one name per thing across the pages.
    secret_description = forms.CharField(
        label="Description (optional)", required=False, max_length=DESCRIPTION_MAX_LENGTH
    )
    secret_expiry = forms.ChoiceField(label="Expiry", choices=EXPIRY_CHOICES, initial=DEFAULT_EXPIRY_CHOICE)
    secret_expiry_days = forms.IntegerField(
        label="Custom expiry (days)", required=False, min_value=1, max_value=MAX_EXPIRY_DAYS
    )

    def __init__(self, *args, multiple_secrets: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.multiple_secrets = multiple_secrets
        if not multiple_secrets:
            for name in ("secret_description", "secret_expiry", "secret_expiry_days"):
                del self.fields[name]

    def config_data(self) -> dict:
        data = super().config_data()
        for name in ("secret_description", "secret_expiry", "secret_expiry_days"):
            data.pop(name, None)
        return data

    def clean(self):
        cleaned = super().clean()
        if (
            self.multiple_secrets
            and cleaned.get("secret_expiry") == "custom"
            and not cleaned.get("secret_expiry_days")
            and "secret_expiry_days" not in self.errors
        ):
            self.add_error(
                "secret_expiry_days",
                f"Enter the number of days (1 to {MAX_EXPIRY_DAYS}) for a custom expiry.",
            )
        return cleaned

    def secret_expires_at(self):
        if not self.multiple_secrets:
            return None
        return expiry_from_choice(
            self.cleaned_data["secret_expiry"], self.cleaned_data["secret_expiry_days"], now=timezone.now()
        )


class MapKeysForm(NoColonLabels, forms.Form):
    """Provide Existing OAuth Keys."""

    default_renderer = RENDERER  # widgets, labels and errors written in Python (issue 14)

    consumer_key = forms.CharField(label="Consumer key", max_length=255)
    consumer_secret = forms.CharField(
        label="Consumer secret", max_length=2048, widget=forms.PasswordInput(render_value=False)
    )


class TokenForm(NoColonLabels, forms.Form):
    """Generate Access Token: scopes, validity, the secret where the portal cannot look it up."""

    default_renderer = RENDERER  # widgets, labels and errors written in Python (issue 14)

    # Checkboxes, not a native multi-select (Ctrl/Cmd-click that nothing explains, rows that go
    # pale on blur); the page labels each with its display name, key and description (scope_rows).
    scopes = forms.MultipleChoiceField(label="Scopes", required=False, widget=forms.CheckboxSelectMultiple)
    validity_period = forms.IntegerField(
        label="Validity period", initial=3600, help_text="Seconds. A negative number means never expires."
    )
    consumer_secret = forms.CharField(
        label="Consumer secret",
        required=False,
        max_length=2048,
        widget=forms.PasswordInput(render_value=False),
        help_text="One of this key's consumer secrets.",
    )
    revoke_previous = forms.BooleanField(label="Revoke earlier tokens of these keys", required=False)

    def __init__(self, *args, scopes, needs_secret: bool, validity_default: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        scopes = list(scopes)
        self.fields["scopes"].choices = [(s.name, s.display_name or s.name) for s in scopes]
        self._scopes = scopes
        if validity_default:
            self.fields["validity_period"].initial = validity_default
        self.needs_secret = needs_secret
        if needs_secret:
            self.fields["consumer_secret"].required = True
            self.fields["consumer_secret"].error_messages["required"] = (
                "Enter one of this key's consumer secrets."
            )
        else:
            del self.fields["consumer_secret"]

    def scope_rows(self):
        """(checkbox, scope) pairs, in the order of the choices: the page shows each checkbox with
        the scope's display name, its key (what the token carries) and its description."""
        return list(zip(self["scopes"], self._scopes, strict=True))

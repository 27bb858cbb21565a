"""The key-manager admin's form: credentials write-only, per-type rules, discovery import on save.

Credentials (initial access token, service-account client id/secret, Okta API token, introspection
client) are typed into password inputs that never render a value back; they are stored encrypted with
``KeyManager.set_credentials``. An empty input keeps what is stored; a "clear" box removes it. The
rules each type adds (required config, credentials it cannot work without) live with its adapter.
"""

from __future__ import annotations

import json

from django import forms
from django.db import models

from keymanagers import keycloak, okta
from keymanagers.base import ADAPTERS, KeyManagerError
from keymanagers.http import apply_discovery, fetch_well_known
from keymanagers.models import GrantType, KeyManager
from keymanagers.resident.adapter import SERVED_GRANT_TYPES

# name -> (label, help): every credential any adapter reads. Which type uses which is in the help text.
CREDENTIAL_FIELDS = {
    "initial_access_token": (
        "Initial access token",
        "OIDC DCR and Keycloak: the RFC 7591 initial access token used to register clients.",
    ),
    "client_id": (
        "Service account client id",
        "Keycloak: a confidential client whose service account has create-client, manage-clients and "
        "view-clients (needed to regenerate secrets).",
    ),
    "client_secret": ("Service account client secret", "Keycloak: that client's secret."),
    "api_token": ("Okta API token", "Okta: sent as 'Authorization: SSWS' followed by the token."),
    "access_token": (
        "Okta OAuth access token",
        "Okta: instead of an API token, a bearer token with okta.clients.register, okta.clients.manage "
        "and okta.apps.manage.",
    ),
    "introspection_client_id": (
        "Introspection client id",
        "Optional: a client allowed to introspect every token (otherwise the key's own client asks).",
    ),
    "introspection_client_secret": ("Introspection client secret", "Optional: that client's secret."),
}
# Fields "Import endpoints from well-known URL" fills (keymanagers.http.apply_discovery).
DISCOVERED_FIELDS = (
    "issuer",
    "authorize_endpoint",
    "token_endpoint",
    "revoke_endpoint",
    "introspection_endpoint",
    "userinfo_endpoint",
    "jwks_endpoint",
    "registration_endpoint",
    "available_grant_types",
)
# Per-type rules of this form live with their adapters: the settings each type needs in ``config``
# (the others are optional) and the credentials it cannot work without.
ADAPTER_ADMIN_RULES = {KeyManager.Type.KEYCLOAK: keycloak, KeyManager.Type.OKTA: okta}
REQUIRED_CONFIG = {km_type: rules.ADMIN_REQUIRED_CONFIG for km_type, rules in ADAPTER_ADMIN_RULES.items()}


def discovery_transport(key_manager: KeyManager):
    """Tests route an adapter class to a simulator through its ``transport``; discovery follows it."""
    return getattr(ADAPTERS.get(key_manager.type), "transport", None)


class IndentedJSONField(forms.JSONField):
    """The adapter config as indented JSON, one setting a line, not one long clipped line."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 60, "spellcheck": "false"})

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


def _formfield(field, **kwargs):
    # Endpoints typed without a scheme are meant as https (Django 6's default, opted into now).
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    if isinstance(field, models.JSONField) and field.name == "config":
        kwargs.setdefault("form_class", IndentedJSONField)
    return field.formfield(**kwargs)


def _credential_inputs() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for name, (label, help_text) in CREDENTIAL_FIELDS.items():
        fields[name] = forms.CharField(
            label=label,
            required=False,
            help_text=help_text,
            # render_value=False: a stored secret never travels back to the browser.
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )
        fields[f"clear_{name}"] = forms.BooleanField(
            required=False, label=f"Clear the stored {label.lower()}"
        )
    return fields


# Declared (not added in __init__) so that the admin's fieldsets may name them.
CredentialInputs = type("CredentialInputs", (forms.Form,), _credential_inputs())


class KeyManagerForm(CredentialInputs, forms.ModelForm):
    available_grant_types = forms.MultipleChoiceField(
        choices=GrantType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="What developers may tick. Password and Implicit are forbidden by current OAuth security "
        "guidance (RFC 9700): allow them only for legacy clients.",
    )
    import_well_known = forms.BooleanField(
        required=False,
        label="Import endpoints from the well-known URL on save",
        help_text="Fetches the discovery document and fills the endpoints and grant types from it.",
    )

    class Meta:
        model = KeyManager
        formfield_callback = _formfield
        labels = {
            "well_known_url": "Well-known URL",
            "issuer": "Issuer",
            "authorize_endpoint": "Authorization endpoint",
            "revoke_endpoint": "Revocation endpoint",
            "userinfo_endpoint": "UserInfo endpoint",
            "jwks_endpoint": "JWKS endpoint",
            "enable_oauth_app_creation": "Developers may create OAuth apps",
            "enable_token_generation": "Developers may generate access tokens",
            "enable_map_oauth_consumer_apps": "Developers may map existing OAuth clients",
            "multiple_secrets_enabled": "Several secrets per key",
            "config": "Adapter config",
        }
        # Never credentials_encrypted: credentials go through the write-only inputs above.
        fields = (
            "name",
            "display_name",
            "type",
            "enabled",
            "order",
            "description",
            "well_known_url",
            "issuer",
            *DISCOVERED_FIELDS[1:],
            "token_format",
            "enable_oauth_app_creation",
            "enable_token_generation",
            "enable_map_oauth_consumer_apps",
            "multiple_secrets_enabled",
            "secret_count",
            "config",
            "timeout",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.is_resident:
            # The built-in server serves only these at /oauth2/token and /oauth2/authorize.
            served = {str(g) for g in SERVED_GRANT_TYPES}
            field = self.fields["available_grant_types"]
            field.choices = [(value, label) for value, label in GrantType.choices if value in served]
            field.error_messages["invalid_choice"] = (
                "The built-in Resident server does not serve %(value)s: choose among "
                + ", ".join(label for _, label in field.choices)
                + "."
            )
        stored = self._stored_credentials()
        for name in CREDENTIAL_FIELDS:
            if name in stored:
                self.fields[name].help_text += " A value is stored; leave empty to keep it."
            else:
                self.fields[name].help_text += " Nothing stored."
                self.fields.pop(f"clear_{name}", None)

    def _stored_credentials(self) -> dict:
        if not self.instance.pk or not self.instance.credentials_encrypted:
            return {}
        try:
            return self.instance.get_credentials()
        except ValueError:
            return {}  # wrong PORTAL_ENCRYPTION_KEY: the admin re-enters them

    def clean_timeout(self):
        timeout = self.cleaned_data.get("timeout")
        if timeout is not None and not 0 < timeout <= 120:
            raise forms.ValidationError("Give a timeout between 0 and 120 seconds, or leave it empty.")
        return timeout

    def clean_config(self):
        config = self.cleaned_data.get("config")
        if config in (None, ""):
            return {}
        if not isinstance(config, dict):
            raise forms.ValidationError('The adapter config must be a JSON object, e.g. {"realm": "demo"}.')
        return config

    def clean_type(self):
        new_type = self.cleaned_data.get("type")
        if self.instance.pk and new_type != self.instance.type:
            raise forms.ValidationError(
                "A key manager's type cannot change: its keys belong to that adapter."
            )
        if not self.instance.pk and new_type == KeyManager.Type.RESIDENT:
            raise forms.ValidationError("There is only one Resident key manager, and it exists already.")
        return new_type

    def clean(self):
        cleaned = super().clean()
        km_type = cleaned.get("type") or self.instance.type
        adapter_class = ADAPTERS.get(km_type)

        config = cleaned.get("config")
        if isinstance(config, dict):
            missing = [
                key for key in REQUIRED_CONFIG.get(km_type, ()) if not str(config.get(key, "")).strip()
            ]
            if missing:
                example = json.dumps({key: "…" for key in REQUIRED_CONFIG[km_type]}, ensure_ascii=False)
                self.add_error(
                    "config",
                    f"{KeyManager.Type(km_type).label} needs {', '.join(missing)} in the "
                    f"adapter config, e.g. {example}.",
                )

        self._check_credentials(km_type)

        if cleaned.get("multiple_secrets_enabled") and adapter_class is not None:
            count = cleaned.get("secret_count")
            if not adapter_class.supports_multiple_secrets:
                self.add_error(
                    "multiple_secrets_enabled",
                    f"{KeyManager.Type(km_type).label} keeps one secret "
                    "per client: switch multiple secrets off.",
                )
            elif adapter_class.max_secrets is not None and (
                count is None or count > adapter_class.max_secrets
            ):
                self.add_error(
                    "secret_count",
                    f"{KeyManager.Type(km_type).label} keeps at most "
                    f"{adapter_class.max_secrets} secrets per client: set a secret "
                    f"count between 1 and {adapter_class.max_secrets}.",
                )
        if cleaned.get("secret_count") == 0:
            self.add_error("secret_count", "A key needs at least one secret: leave empty for unlimited.")

        if cleaned.get("import_well_known") and not self.errors:
            self._import_well_known(cleaned)
        return cleaned

    def _check_credentials(self, km_type: str) -> None:
        """The credentials a type cannot work without, counting stored ones that are not being cleared."""
        kept = {name for name in self._stored_credentials() if not self.cleaned_data.get(f"clear_{name}")} | {
            name for name in CREDENTIAL_FIELDS if self.cleaned_data.get(name)
        }
        rules = ADAPTER_ADMIN_RULES.get(km_type)
        for field, message in (rules.admin_credential_problems(kept) if rules else {}).items():
            self.add_error(field, message)
        for pair in (
            ("client_id", "client_secret"),
            ("introspection_client_id", "introspection_client_secret"),
        ):
            if len(set(pair) & kept) == 1:
                missing = next(name for name in pair if name not in kept)
                self.add_error(missing, f"Give the {CREDENTIAL_FIELDS[missing][0].lower()} too, or neither.")

    def _import_well_known(self, cleaned: dict) -> None:
        url = cleaned.get("well_known_url")
        if not url:
            self.add_error("well_known_url", "Give the well-known URL to import from.")
            return
        probe = KeyManager(
            name=cleaned.get("name") or "key manager",
            display_name=cleaned.get("display_name", ""),
            type=cleaned.get("type"),
            timeout=cleaned.get("timeout"),
            available_grant_types=cleaned.get("available_grant_types") or [],
        )
        try:
            doc = fetch_well_known(url, key_manager=probe, transport=discovery_transport(probe))
        except KeyManagerError as exc:
            self.add_error("well_known_url", exc.message)
            return
        apply_discovery(probe, doc)
        for field in DISCOVERED_FIELDS:
            cleaned[field] = getattr(probe, field)

    def save(self, commit=True):
        km = super().save(commit=False)
        # super() only copies model fields it saw in the form: discovery may have filled more.
        for field in DISCOVERED_FIELDS:
            if field in self.cleaned_data:
                setattr(km, field, self.cleaned_data[field])
        credentials = self._stored_credentials()
        for name in CREDENTIAL_FIELDS:
            if self.cleaned_data.get(f"clear_{name}"):
                credentials.pop(name, None)
            elif self.cleaned_data.get(name):
                credentials[name] = self.cleaned_data[name]
        km.set_credentials(credentials)
        if commit:
            km.save()
            self._save_m2m()
        return km


def credential_fieldset() -> tuple[str, ...]:
    names: list[str] = []
    for name in CREDENTIAL_FIELDS:
        names += [name, f"clear_{name}"]
    return tuple(names)

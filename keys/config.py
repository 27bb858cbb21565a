"""Key Configurations: the one place that checks a key's settings, for the pages and the API alike.

``clean_key_config`` takes plain data (the form's cleaned values or the API's body, snake_case)
and returns a ``KeyConfig`` or raises ``ValidationError`` with a message per field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from keymanagers.base import EXPIRY_DEFAULTS, ClientConfig, KeyManagerAdapter
from keymanagers.callbacks import pattern_problem
from keymanagers.models import REDIRECT_GRANT_TYPES, GrantType

EXPIRY_FIELDS = (
    "application_access_token_expiry_time",
    "user_access_token_expiry_time",
    "refresh_token_expiry_time",
    "id_token_expiry_time",
)
FLAG_FIELDS = ("pkce_mandatory", "pkce_support_plain", "bypass_client_credentials")
# The database columns are 32-bit integers.
MAX_SECONDS = 2**31 - 1
CALLBACK_MAX_LENGTH = 2000
REGEXP_PREFIX = "regexp="

# ``ClientConfig`` names the adapters use → the Key Configuration field names.
CLIENT_FIELD_NAMES = {"public_client": "bypass_client_credentials"}

_url_validator = URLValidator(schemes=["http", "https"])


def grant_type_label(value: str) -> str:
    try:
        return GrantType(value).label
    except ValueError:
        return value


@dataclass(frozen=True)
class KeyConfig:
    """A checked configuration, ready for the key manager and for the ``ApplicationKey`` row."""

    grant_types: list[str]
    callback_url: str = ""
    application_access_token_expiry_time: int = EXPIRY_DEFAULTS["application_access_token_expiry_time"]
    user_access_token_expiry_time: int = EXPIRY_DEFAULTS["user_access_token_expiry_time"]
    refresh_token_expiry_time: int = EXPIRY_DEFAULTS["refresh_token_expiry_time"]
    id_token_expiry_time: int = EXPIRY_DEFAULTS["id_token_expiry_time"]
    pkce_mandatory: bool = False
    pkce_support_plain: bool = False
    bypass_client_credentials: bool = False
    additional_properties: dict[str, Any] = field(default_factory=dict)

    def model_fields(self) -> dict[str, Any]:
        """The ``ApplicationKey`` columns this configuration sets."""
        return {
            "supported_grant_types": list(self.grant_types),
            "callback_url": self.callback_url,
            **{name: getattr(self, name) for name in EXPIRY_FIELDS},
            "pkce_mandatory": self.pkce_mandatory,
            "pkce_support_plain": self.pkce_support_plain,
            "bypass_client_credentials": self.bypass_client_credentials,
            "additional_properties": dict(self.additional_properties),
        }

    def client_config(self, *, application, key_type: str) -> ClientConfig:
        owner = application.owner.get_username()
        return ClientConfig(
            # Unique per application and environment: some servers (Okta) insist on unique names.
            name=f"{owner}_{application.name}_{key_type}",
            grant_types=list(self.grant_types),
            callback_url=self.callback_url,
            token_type=application.token_type,
            application_access_token_expiry_time=self.application_access_token_expiry_time,
            user_access_token_expiry_time=self.user_access_token_expiry_time,
            refresh_token_expiry_time=self.refresh_token_expiry_time,
            id_token_expiry_time=self.id_token_expiry_time,
            pkce_mandatory=self.pkce_mandatory,
            pkce_support_plain=self.pkce_support_plain,
            public_client=self.bypass_client_credentials,
            owner=owner,
            application_name=application.name,
            additional_properties=dict(self.additional_properties),
            granted_scopes=granted_scope_names(application),
        )


def unsupported_fields(adapter: KeyManagerAdapter) -> dict[str, tuple[str, Any]]:
    """Key Configuration fields the key manager cannot honour: field name → (reason, default value)."""
    defaults = ClientConfig(name="", grant_types=[])
    return {
        CLIENT_FIELD_NAMES.get(name, name): (reason, getattr(defaults, name, None))
        for name, reason in adapter.unsupported_settings().items()
    }


def granted_scope_names(application) -> list[str]:
    """The restricted scopes an admin granted ``application``, by name (unrestricted ones need no grant)."""
    if application.pk is None:
        return []
    return sorted(application.granted_scopes.filter(restricted=True).values_list("name", flat=True))


def config_from_key(key) -> dict[str, Any]:
    """An existing key's configuration as the plain data ``clean_key_config`` takes."""
    return {
        "grant_types": list(key.supported_grant_types or []),
        "callback_url": key.callback_url,
        **{name: getattr(key, name) for name in EXPIRY_FIELDS},
        "pkce_mandatory": key.pkce_mandatory,
        "pkce_support_plain": key.pkce_support_plain,
        "bypass_client_credentials": key.bypass_client_credentials,
        "additional_properties": dict(key.additional_properties or {}),
    }


def parse_seconds(value: Any) -> int:
    """A number of seconds: an integer (or its decimal string); negative means never expires."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        number = int(value)
    else:
        raise ValueError
    if number == 0 or abs(number) > MAX_SECONDS:
        raise ValueError
    return number


def parse_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError


def check_callback_url(value: str) -> list[str]:
    """Problems with a callback URL value: several absolute http(s) URLs, or one ``regexp=…``."""
    if len(value) > CALLBACK_MAX_LENGTH:
        return [f"Use at most {CALLBACK_MAX_LENGTH} characters."]
    if value.startswith(REGEXP_PREFIX):
        pattern = value[len(REGEXP_PREFIX) :]
        if not pattern.strip():
            return ["Write a regular expression after “regexp=”."]
        # RE2, as at the endpoint: linear-time matching, so no pattern can stall the server.
        problem = pattern_problem(pattern)
        return [problem] if problem else []
    problems = []
    for url in value.replace(",", " ").split():
        try:
            _url_validator(url)
        except ValidationError:
            problems.append(f"“{url}” is not an absolute http:// or https:// URL.")
            continue
        if "#" in url:
            problems.append(f"“{url}” must not contain a fragment (#…).")
    return problems


def clean_key_config(
    data: Mapping[str, Any], *, adapter: KeyManagerAdapter, token_scopes: list[str] | None = None
) -> KeyConfig:
    """Check ``data`` against the key manager's rules; missing expiry times and flags take defaults.
    ``token_scopes``: the scopes of the token asked for right after generating (None: no token)."""
    errors: dict[str, list[str]] = {}
    available = adapter.available_grant_types()

    grant_types = data.get("grant_types") or []
    if isinstance(grant_types, str) or not isinstance(grant_types, list | tuple):
        errors["grant_types"] = ["Give the grant types as a list."]
        grant_types = []
    grant_types = list(dict.fromkeys(str(g) for g in grant_types))
    unknown = [g for g in grant_types if g not in available]
    if unknown:
        names = ", ".join(grant_type_label(g) for g in available) or "none"
        errors["grant_types"] = [
            f"{', '.join(unknown)}: not available at {adapter.label} (available: {names})."
        ]
    elif not grant_types and "grant_types" not in errors:
        errors["grant_types"] = ["Select at least one grant type."]

    callback_url = data.get("callback_url") or ""
    if not isinstance(callback_url, str):
        errors["callback_url"] = ["Give the callback URL as text."]
        callback_url = ""
    callback_url = callback_url.strip()
    needs_callback = sorted(REDIRECT_GRANT_TYPES.intersection(grant_types))
    if callback_url:
        problems = check_callback_url(callback_url)
        if problems:
            errors["callback_url"] = problems
    elif needs_callback:
        labels = " and ".join(grant_type_label(g) for g in needs_callback)
        errors["callback_url"] = [f"A callback URL is required for the {labels} grant type."]

    values: dict[str, Any] = {}
    for name in EXPIRY_FIELDS:
        raw = data.get(name)
        if raw is None or raw == "":
            values[name] = EXPIRY_DEFAULTS[name]
            continue
        try:
            values[name] = parse_seconds(raw)
        except ValueError:
            errors[name] = [
                "Enter a whole number of seconds other than 0 (a negative number means never expires)."
            ]
    for name in FLAG_FIELDS:
        raw = data.get(name)
        if raw is None or raw == "":
            values[name] = False
            continue
        try:
            values[name] = parse_flag(raw)
        except ValueError:
            errors[name] = ["Must be true or false."]

    if values.get("pkce_support_plain") and not values.get("pkce_mandatory"):
        # Plain is a weaker form of PKCE: allowing it only means something where PKCE is on.
        errors.setdefault("pkce_support_plain", []).append(
            "Plain text PKCE needs Enable PKCE: tick Enable PKCE or untick this."
        )
    if values.get("bypass_client_credentials") and GrantType.CLIENT_CREDENTIALS in grant_types:
        errors.setdefault("bypass_client_credentials", []).append(
            "A public client has no secret, so it cannot use Client Credentials: untick one of them."
        )

    extra = data.get("additional_properties") or {}
    if not isinstance(extra, Mapping):
        errors["additional_properties"] = ["Give the additional properties as an object."]
        extra = {}
    additional: dict[str, Any] = {}
    for item in adapter.application_configuration():
        name = item.get("name")
        if not name:
            continue
        value = extra.get(name, item.get("default"))
        if item.get("required") and (value is None or value == "" or value == []):
            errors[f"additional_properties.{name}"] = [f"{item.get('label') or name} is required."]
            continue
        allowed = item.get("values")
        if (
            allowed
            and value not in (None, "")
            and not isinstance(value, list)
            and str(value) not in map(str, allowed)
        ):
            errors[f"additional_properties.{name}"] = [f"Choose one of: {', '.join(map(str, allowed))}."]
            continue
        if value not in (None, ""):
            additional[name] = value

    if not errors:
        # The key manager's own rules (settings it cannot honour, grant-type combinations), checked
        # before anything is created remotely.
        client = ClientConfig(
            name="",
            grant_types=grant_types,
            callback_url=callback_url,
            public_client=values["bypass_client_credentials"],
            additional_properties=additional,
            token_scopes=token_scopes,
            **{name: values[name] for name in (*EXPIRY_FIELDS, "pkce_mandatory", "pkce_support_plain")},
        )
        for name, message in adapter.config_problems(client).items():
            errors.setdefault(CLIENT_FIELD_NAMES.get(name, name), []).append(message)

    if errors:
        raise ValidationError(errors)
    return KeyConfig(
        grant_types=grant_types,
        callback_url=callback_url,
        additional_properties=additional,
        **values,
    )

"""Writes of the applications domain: applications and personal API tokens.

Pages and the REST API call these functions, so both get the same rules: names trimmed, 1–70
characters, unique per owner regardless of case; deletion removes the clients at the key managers
first; every change is audited.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from keymanagers.base import KeyManagerError
from keys.errors import KeysError
from keys.services import keys_delete_all
from keys.token_type import keys_apply_token_type
from portal import crypto
from portal.audit import audit
from portal.authentication import LOOKUP_PREFIX_LENGTH, TOKEN_PREFIX
from portal.errors import PortalError
from portal.models import ApiToken, Application, ApplicationAttribute, AuditEvent, TokenType

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 70
DESCRIPTION_MAX_LENGTH = 1024
THROTTLING_POLICY_MAX_LENGTH = 64
DEFAULT_THROTTLING_POLICY = "Unlimited"
API_TOKEN_LIFETIME_CHOICES = (7, 30, 90, 365)
ATTRIBUTE_VALUE_MAX_LENGTH = 1024


class DuplicateApplicationName(PortalError):
    """The owner already has an application with this name (compared without case)."""

    status = 409
    title = "Conflict"
    code = "duplicate_name"

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"An application named '{name}' already exists")


def clean_application_name(name: str) -> str:
    """The name as stored: trimmed, 1–70 characters, no control characters."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Enter a name for the application.", code="required")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            f"The name can have at most {NAME_MAX_LENGTH} characters (it has {len(name)}).", code="max_length"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValidationError("The name must not contain control characters.", code="invalid")
    return name


def _check_fields(*, description: str, token_type: str, throttling_policy: str) -> None:
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(f"The description can have at most {DESCRIPTION_MAX_LENGTH} characters.")
    if token_type not in TokenType.values:
        raise ValidationError(f"Token type must be one of {', '.join(TokenType.values)}.")
    if not throttling_policy or len(throttling_policy) > THROTTLING_POLICY_MAX_LENGTH:
        raise ValidationError(f"Throttling policy must have 1 to {THROTTLING_POLICY_MAX_LENGTH} characters.")


def clean_attributes(values, *, current: dict | None = None) -> dict[str, str]:
    """An application's attribute values as stored, checked against the admin's attributes.

    ``values`` is what the developer gave (name → text); ``current`` what the application had.
    A name that is no attribute, or a hidden one, is refused (nothing silently ignored); a required
    attribute left empty takes its default or is refused; hidden attributes keep their value or
    take their default. Raises ``ValidationError`` with one message per problem.
    """
    values = {} if values is None else values
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        raise ValidationError(
            {"attributes": ["Give the attributes as an object of texts, by attribute name."]}
        )
    current = current or {}
    attributes = list(ApplicationAttribute.objects.all())
    visible = [a.name for a in attributes if not a.hidden]
    problems = []
    unknown = sorted(set(values) - set(visible))
    if unknown:
        names = ", ".join(visible) or "none are defined"
        problems.append(f"Unknown attribute: {', '.join(unknown)}. The attributes are: {names}.")
    cleaned: dict[str, str] = {}
    for attribute in attributes:
        if attribute.hidden:
            value = current.get(attribute.name, attribute.default)
        else:
            value = (values.get(attribute.name) or "").strip() or attribute.default
        if len(value) > ATTRIBUTE_VALUE_MAX_LENGTH:
            problems.append(f"{attribute.name} can have at most {ATTRIBUTE_VALUE_MAX_LENGTH} characters.")
        elif attribute.required and not value:
            problems.append(f"{attribute.name} is required.")
        elif value:
            cleaned[attribute.name] = value
    if problems:
        raise ValidationError({"attributes": problems})
    return cleaned


def hidden_attribute_names() -> set[str]:
    return set(ApplicationAttribute.objects.filter(hidden=True).values_list("name", flat=True))


def visible_attributes(application: Application, hidden: set[str] | None = None) -> dict[str, str]:
    """The attribute values a developer sees (hidden attributes are the admins')."""
    hidden = hidden_attribute_names() if hidden is None else hidden
    return {name: value for name, value in (application.attributes or {}).items() if name not in hidden}


def name_taken(*, owner, name: str, exclude_pk=None) -> bool:
    qs = Application.objects.filter(owner=owner, name__iexact=name)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _save_unique(application: Application) -> None:
    """Save, turning the case-insensitive unique constraint into DuplicateApplicationName.

    The check before saving gives the friendly error; the constraint catches the race between two
    requests creating the same name at once.
    """
    if name_taken(owner=application.owner, name=application.name, exclude_pk=application.pk):
        raise DuplicateApplicationName(application.name)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError as exc:
        if name_taken(owner=application.owner, name=application.name, exclude_pk=application.pk):
            raise DuplicateApplicationName(application.name) from exc
        raise


@transaction.atomic
def application_create(
    *,
    owner,
    name: str,
    description: str = "",
    token_type: str = TokenType.JWT,
    throttling_policy: str = DEFAULT_THROTTLING_POLICY,
    attributes: dict[str, str] | None = None,
) -> Application:
    name = clean_application_name(name)
    description = (description or "").strip()
    _check_fields(description=description, token_type=token_type, throttling_policy=throttling_policy)
    application = Application(
        owner=owner,
        name=name,
        description=description,
        token_type=token_type,
        throttling_policy=throttling_policy,
        attributes=clean_attributes(attributes),
    )
    _save_unique(application)
    audit(actor=owner, action="application.create", application=application, name=name, token_type=token_type)
    return application


def application_update(
    *,
    application: Application,
    actor,
    name: str,
    description: str = "",
    token_type: str = TokenType.JWT,
    throttling_policy: str = DEFAULT_THROTTLING_POLICY,
    attributes: dict[str, str] | None = None,
) -> Application:
    """Change an application; a new token type is applied to its keys' clients first.
    ``attributes`` None keeps the application's attribute values (checked again all the same).

    Not one transaction: the keys' clients live at key managers, which a rollback cannot reach.
    So the clients change first (``keys_apply_token_type``, all or nothing) and the application
    is saved after; if that save fails, the clients get the old token type back. A key manager's
    failure propagates as ``KeyManagerError`` with the application unchanged; a key that cannot
    take the new type (disabled key manager, outdated configuration) is a ``ValidationError``.
    """
    name = clean_application_name(name)
    description = (description or "").strip()
    _check_fields(description=description, token_type=token_type, throttling_policy=throttling_policy)
    current = application.attributes or {}
    if attributes is None:
        visible = set(ApplicationAttribute.objects.filter(hidden=False).values_list("name", flat=True))
        attributes = {name: value for name, value in current.items() if name in visible}
    attributes = clean_attributes(attributes, current=current)
    if name_taken(owner=application.owner, name=name, exclude_pk=application.pk):
        # Before touching any key: a refusal must leave the clients as they are.
        raise DuplicateApplicationName(name)
    old_token_type = application.token_type
    changed = sorted(
        field
        for field, value in {
            "name": name,
            "description": description,
            "token_type": token_type,
            "throttling_policy": throttling_policy,
            "attributes": attributes,
        }.items()
        if getattr(application, field) != value
    )
    if "token_type" in changed:
        try:
            keys_apply_token_type(application=application, token_type=token_type, actor=actor)
        except (KeysError, KeyManagerError) as exc:
            audit(
                actor=actor,
                action="application.update",
                application=application,
                outcome=AuditEvent.Outcome.FAILURE,
                changed=changed,
                error=str(exc)[:500],
            )
            if isinstance(exc, KeysError):
                raise ValidationError(exc.description) from exc
            raise
    try:
        with transaction.atomic():
            application.name = name
            application.description = description
            application.token_type = token_type
            application.throttling_policy = throttling_policy
            application.attributes = attributes
            _save_unique(application)
            audit(actor=actor, action="application.update", application=application, changed=changed)
    except BaseException:
        if "token_type" in changed:
            # The stored application keeps its old token type: so must its clients.
            application.token_type = old_token_type
            try:
                keys_apply_token_type(application=application, token_type=old_token_type, actor=actor)
            except (KeysError, KeyManagerError):
                logger.exception(
                    "Application %s: could not give its keys the token type %s back after a failed save",
                    application.pk,
                    old_token_type,
                )
        raise
    return application


def application_delete(*, application: Application, actor) -> None:
    """Delete the application's clients at their key managers, then the application.

    Not one transaction on purpose: a client deleted at a key manager cannot be restored by a
    rollback, so each key is removed locally as soon as its remote client is gone
    (``keys_delete_all``). If a key manager fails, its ``KeyManagerError`` propagates and the
    application (with its remaining keys) is kept, so the developer can retry.
    """
    application_id, name = application.pk, application.name
    try:
        keys_delete_all(application=application, actor=actor)
    except KeyManagerError as exc:
        audit(
            actor=actor,
            action="application.delete",
            application=application_id,
            outcome=AuditEvent.Outcome.FAILURE,
            name=name,
            error=str(exc),
        )
        raise
    with transaction.atomic():
        application.delete()
        audit(actor=actor, action="application.delete", application=application_id, name=name)


def api_token_lifetime_choices() -> list[int]:
    """Lifetimes (days) offered for a new API token, capped by PORTAL_API_TOKEN_MAX_DAYS."""
    maximum = settings.PORTAL_API_TOKEN_MAX_DAYS
    return [d for d in API_TOKEN_LIFETIME_CHOICES if d <= maximum] or [maximum]


@transaction.atomic
def api_token_create(*, user, name: str, days: int) -> tuple[ApiToken, str]:
    """Create a personal API token; returns the row and the value, which is never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Enter a name for the token.")
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise ValidationError("The name can have at most 100 characters.")
    if days not in api_token_lifetime_choices():
        raise ValidationError(
            f"Choose a lifetime of {', '.join(map(str, api_token_lifetime_choices()))} days."
        )
    expires_at = timezone.now() + timedelta(days=days)
    # The lookup prefix carries 48 random bits: a collision is astronomically rare, but retrying
    # costs nothing and keeps the unique index from ever surfacing as an error.
    for _attempt in range(5):
        value = crypto.generate_secret(TOKEN_PREFIX)
        prefix = value[:LOOKUP_PREFIX_LENGTH]
        if ApiToken.objects.filter(prefix=prefix).exists():
            continue
        token = ApiToken.objects.create(
            user=user, name=name, prefix=prefix, token_hash=crypto.keyed_hash(value), expires_at=expires_at
        )
        audit(actor=user, action="api_token.create", token_prefix=prefix, days=days)
        return token, value
    raise RuntimeError("could not generate a unique API token prefix")


@transaction.atomic
def api_token_revoke(*, api_token: ApiToken, actor) -> None:
    prefix = api_token.prefix
    api_token.delete()
    audit(actor=actor, action="api_token.revoke", token_prefix=prefix)

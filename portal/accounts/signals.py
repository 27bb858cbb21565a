"""Account events: staff sessions are shorter, and a new password ends the user's API tokens.

Connected in ``PortalConfig.ready``. These stay signals, not calls from the views, on purpose (README,
"Architecture"): each must hold on every path, and only the signal sees them all.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from portal.audit import audit
from portal.models import ApiToken


# A signal: every sign-in (this portal's page, the admin's, the resident server's) sends it from auth.login.
@receiver(user_logged_in)
def shorter_staff_sessions(sender, request, user, **kwargs):
    # A staff session can do everything; a forgotten one should not stay open for two weeks.
    if user.is_staff and request is not None and hasattr(request, "session"):
        request.session.set_expiry(settings.PORTAL_STAFF_SESSION_SECONDS)


# A signal: a password changes by the change and reset pages, the admin, ``changepassword`` and the shell.
@receiver(post_save, sender=get_user_model())
def end_api_tokens_on_password_change(sender, instance, created, **kwargs):
    """A new password (change, reset, admin, ``set_password``) revokes every personal API token.

    Sessions end by Django's own session verification (the session holds a hash of the password);
    API tokens do not depend on the password, so they are deleted here. ``_password`` is set by
    ``set_password`` until ``save()`` has run the password validators' ``password_changed`` hooks:
    Django's own marker that this save stores a new password.
    """
    if created or getattr(instance, "_password", None) is None:
        return
    # The actor is unknown here (the user, a reset link or an admin): recorded as the system.
    for prefix in ApiToken.objects.filter(user=instance).values_list("prefix", flat=True):
        audit(actor=None, action="api_token.revoke", token_prefix=prefix, reason="password changed")
    ApiToken.objects.filter(user=instance).delete()

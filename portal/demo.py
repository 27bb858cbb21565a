"""Demo data: a developer with an application, and an admin, for trying the portal locally.

Idempotent: running it again resets the two known passwords and keeps everything else, so
``bash .ci/demo`` can be run any number of times against the same database.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from portal import services
from portal.models import Application, TokenType

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-portal-2026"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-portal-2026"
DEMO_APPLICATION = "Weather App"


def _user(*, username: str, password: str, email: str, staff: bool):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": email, "is_staff": staff, "is_superuser": staff}
    )
    # The printed password must work even if someone changed it in an earlier session.
    user.set_password(password)
    user.is_active = True
    user.is_staff = user.is_superuser = staff
    user.save()
    return user, created


@transaction.atomic
def load_demo_data() -> dict:
    """Create (or refresh) the demo developer, the admin and the demo application.

    Returns what was made, for the management command to print: usernames, passwords (these are
    public demo credentials, not secrets), the application and whether each thing was new.
    """
    developer, developer_created = _user(
        username=DEMO_USERNAME, password=DEMO_PASSWORD, email="demo@example.com", staff=False
    )
    admin, admin_created = _user(
        username=ADMIN_USERNAME, password=ADMIN_PASSWORD, email="admin@example.com", staff=True
    )
    application = Application.objects.filter(owner=developer, name__iexact=DEMO_APPLICATION).first()
    application_created = application is None
    if application_created:
        application = services.application_create(
            owner=developer,
            name=DEMO_APPLICATION,
            description="A demo application: weather forecasts for your city.",
            token_type=TokenType.JWT,
        )
    return {
        "developer": developer,
        "developer_created": developer_created,
        "developer_password": DEMO_PASSWORD,
        "admin": admin,
        "admin_created": admin_created,
        "admin_password": ADMIN_PASSWORD,
        "application": application,
        "application_created": application_created,
    }

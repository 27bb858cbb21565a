"""Seed the portal's benchmark database through the portal's own services, and print what the
benchmark needs as one JSON object on stdout (credentials included: bench/harness.py reads them
from a pipe and hands them to wrk through its environment, never on a command line).

Run by bench/harness.py: ``DJANGO_SETTINGS_MODULE=portal.settings PYTHONPATH=. python bench/seed.py``.

What it makes, for the developer ``bench``:
- ``bench-JWT`` and ``bench-OAUTH``: Production keys at Resident, client_credentials, one secret
  each (the token-endpoint, introspection and ``/sample/hello`` rows);
- ``bench-secrets``: Production keys whose key has ``--secrets`` secrets (the keys-page row). Its
  own application, so the token rows do not pay for a hundred secrets on their client;
- more applications up to ``--applications`` in all (the applications-page row);
- a signed-in session for the page rows.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import sys
from importlib import import_module

import django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--secrets", type=int, default=100)
    args = parser.parse_args(argv)
    django.setup()

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.db import transaction

    from keymanagers.models import KeyManager
    from keys.secrets.services import secret_create
    from keys.services import keys_generate
    from portal.applications.services import application_create

    user = get_user_model().objects.create_user(
        username="bench", email="bench@example.com", password=secrets.token_urlsafe(24)
    )
    resident = KeyManager.objects.get(type=KeyManager.Type.RESIDENT)
    resident.secret_count = None  # unlimited, for the key with many secrets
    resident.save()

    def generate(application):
        return keys_generate(
            application=application,
            key_type="PRODUCTION",
            key_manager=resident,
            config={"grant_types": ["client_credentials"]},
            actor=user,
        )

    out: dict[str, str] = {}
    for token_type in ("JWT", "OAUTH"):
        application = application_create(owner=user, name=f"bench-{token_type}", token_type=token_type)
        generated = generate(application)
        pair = f"{generated.key.consumer_key}:{generated.consumer_secret}".encode()
        out[f"basic_{token_type.lower()}"] = "Basic " + base64.b64encode(pair).decode()

    application = application_create(owner=user, name="bench-secrets", token_type="JWT")
    key = generate(application).key
    for n in range(1, args.secrets):
        secret_create(key=key, description=f"bench secret {n + 1}", actor=user)
    out["keys_page"] = f"/applications/{application.pk}/keys/production/"

    with transaction.atomic():  # one commit instead of a thousand
        for n in range(3, args.applications):
            application_create(owner=user, name=f"bench-app-{n:05d}", token_type="JWT")
    out["applications_page"] = "/applications/"

    # A session as django.contrib.auth.login leaves it, so the page rows are served signed in.
    # The configured engine: the portal stores sessions under a keyed hash (portal/sessions.py).
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    out["cookie"] = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

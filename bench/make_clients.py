"""Create a benchmark developer with a JWT and an OAUTH application, each with Production keys at
the Resident key manager, and print ``<token type> <base64 key:secret>`` lines for bench/run.

Run through Django: ``python manage.py shell -v 0 < bench/make_clients.py``.
"""

import base64

from django.contrib.auth import get_user_model

from keymanagers.models import KeyManager
from keys.services import keys_generate
from portal.applications.services import application_create

user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
resident = KeyManager.objects.get(type=KeyManager.Type.RESIDENT)
resident.secret_count = None
resident.save()
for token_type in ("JWT", "OAUTH"):
    application = application_create(owner=user, name=f"bench-{token_type}", token_type=token_type)
    generated = keys_generate(
        application=application,
        key_type="PRODUCTION",
        key_manager=resident,
        config={"grant_types": ["client_credentials"]},
        actor=user,
    )
    pair = f"{generated.key.consumer_key}:{generated.consumer_secret}".encode()
    print(token_type, base64.b64encode(pair).decode())

"""Create the stock project's two confidential client_credentials applications and print their
HTTP Basic credentials as JSON: ``hashed`` (DOT's default: the secret goes through Django's password
hasher) and ``unhashed`` (``hash_client_secret=False``: the secret is compared as stored).

Run by bench/harness.py: ``DJANGO_SETTINGS_MODULE=stockdot.settings python bench/stockdot/seed.py``
(``bench/`` on the path).
"""

import base64
import json
import sys

import django


def main() -> int:
    django.setup()
    from oauth2_provider.models import get_application_model

    application_model = get_application_model()
    out = {}
    for name, hashed in (("hashed", True), ("unhashed", False)):
        application = application_model(
            name=f"bench-{name}",
            client_type=application_model.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
            hash_client_secret=hashed,
        )
        # The field's default generated the secret; read it before save() hashes it.
        secret = application.client_secret
        application.save()
        pair = f"{application.client_id}:{secret}".encode()
        out[f"basic_{name}"] = "Basic " + base64.b64encode(pair).decode()
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""REST API for keys, tokens, key managers and scopes (Devportal REST API v3 names).

- ``vocabulary``: the reference's names ↔ ours (fields, key-manager names, ``additionalProperties``)
  and the translation of a request body into the services' arguments;
- ``serializers``: request and response bodies, and the documented error answers;
- ``views``: one view per operation, writing through ``keys.services`` exactly as the pages do;
- ``deprecated``: the reference's ``…/keys/{keyType}`` operations, aliases of the views;
- ``catalogue``: what developers choose from (``key-managers``, ``scopes``).
URLs: ``keys/api_urls.py``; a key's secrets have their own API in ``keys.secrets.api``.

Conventions of this API: seconds everywhere, a negative validity means never expires (a token
that never expires reports ``validityTime: -1``). ``client_secret_expires_in`` (the first
secret's lifetime in multiple-secret mode) follows ``generate-secret``'s rule: absent 90 days,
negative never, 0 refused, at most 3650 days. ``consumerSecret`` appears only in the response that
made it, which no cache may store.
"""

# The applications API names key managers as this API does.
from keys.api.vocabulary import api_key_manager_name

__all__ = ["api_key_manager_name"]

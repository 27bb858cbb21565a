"""Clients of the portal's own REST API: the reference portal's login, done our way.

A user registers a client with their own credentials (``POST /client-registration/v0.17/register``,
HTTP Basic), gets a token for it at the resident server's ``/oauth2/token`` (``client_credentials``)
with ``apim:*`` scopes, and calls the REST API with that token: it acts as the user, limited to
the operations its scopes open (``scopes.OPERATION_SCOPES``, checked once by
``permissions.OperationScope``).

The client is a resident OAuth client marked ``api_client`` (so the token endpoint, secrets,
revocation and rate limits are the resident server's own); ``ApiClient`` records who registered it
and what the registration said.
"""

"""The resident authorization server: the portal's own OAuth 2.0 / OpenID Connect server.

Built on django-oauth-toolkit: ``validator`` and ``server`` change how DOT authenticates clients,
chooses grants, lifetimes and PKCE rules; ``tokens`` and ``signing`` make RFC 9068 JWTs with
rotating keys; ``views``/``urls`` expose the endpoints; ``adapter`` is the key-manager interface
the keys app uses; ``bearer`` and ``authentication`` check tokens for resource servers.
"""

"""URLs of the resident authorization server (included at the site root).

DOT's own application-management URLs are deliberately not included: clients are managed through
the portal's keys pages and the admin.
"""

from django.urls import path

from keymanagers.resident import signin, views
from portal.ratelimit import oauth_limited

urlpatterns = [
    # Per claimed client and per address (portal/ratelimit.py): 429 with an OAuth-style error.
    path("oauth2/token", oauth_limited(views.ResidentTokenView.as_view(), "token"), name="resident-token"),
    path("oauth2/authorize", views.ResidentAuthorizationView.as_view(), name="resident-authorize"),
    path("oauth2/sign-in", signin.AuthorizationSignInView.as_view(), name="resident-sign-in"),
    path(
        "oauth2/revoke", oauth_limited(views.ResidentRevokeView.as_view(), "revoke"), name="resident-revoke"
    ),
    path("oauth2/introspect", oauth_limited(views.introspect, "introspect"), name="resident-introspect"),
    path("oauth2/jwks", views.jwks, name="resident-jwks"),
    path("oauth2/userinfo", views.userinfo, name="resident-userinfo"),
    # RFC 8414 puts the document at the root, with the issuer's path ("/oauth2") appended; OpenID
    # Connect Discovery puts it under the issuer. Serve every spelling clients try.
    path(".well-known/oauth-authorization-server", views.metadata, name="resident-metadata"),
    path(".well-known/oauth-authorization-server/oauth2", views.metadata),
    path(".well-known/openid-configuration", views.metadata, name="resident-openid-configuration"),
    path("oauth2/.well-known/openid-configuration", views.metadata),
    path("sample/hello", views.sample_hello, name="sample-hello"),
]

"""Small stateful HTTP simulators of Keycloak and Okta, written from their documented APIs.

They run behind ``httpx.MockTransport``, so the adapters' real HTTP code (``keymanagers.http``) is what
talks to them. Each records every request it received, for tests that assert exactly what was sent.
"""

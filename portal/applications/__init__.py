"""The applications domain: a developer's applications and personal API tokens.

Models stay in ``portal.models`` (the app label is ``portal``); here are the rules (``services``),
the owner-scoped reads (``selectors``), the pages (``views``, ``forms``) and the REST API (``api``).
It builds on ``keys``: deleting an application or changing its token type calls ``keys.services``
directly (see the README's "Architecture").
"""

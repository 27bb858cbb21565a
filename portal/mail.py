"""The e-mail backend of a production instance without an SMTP server: it sends nothing and says so.

Django's console backend would print each mail, password-reset and verification links included,
to the log, where anyone who reads the log could take over an account. Without ``EMAIL_HOST`` and
with ``DEBUG`` off, mails are dropped with an error naming the missing setting (never the content);
``check --deploy`` fails on the same configuration (portal.E003).
"""

from __future__ import annotations

import logging

from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)


class UnconfiguredEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            logger.error(
                "email not sent (%d recipient%s): EMAIL_HOST is not set",
                len(message.recipients()),
                "" if len(message.recipients()) == 1 else "s",
            )
        return 0

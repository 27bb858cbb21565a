"""Django's PostgreSQL backend with a health check that costs no round trip while nothing happened.

The portal keeps connections open between requests (``CONN_MAX_AGE``) and checks them before a
request's first query (``CONN_HEALTH_CHECKS``), so that the first request after a PostgreSQL
restart reconnects instead of failing. Django's check is a ``SELECT 1``: a round trip on every
request, about a fifth of the time of a bearer-checked API call (issue 14's profiles).

A connection that sits idle between requests receives nothing unless something happened to it:
a restart or ``pg_terminate_backend`` sends an error and closes the socket. So the check here
asks the operating system first whether the idle connection's socket has anything to read; when
it has (or libpq already knows the connection is bad), Django's ``SELECT 1`` decides as before.
An idle socket with nothing to read is the connection as the last request left it.
A server that vanished without closing anything (a host lost on the network) is not detected by
either check: the query then fails, as it would after a ``SELECT 1`` that hung.
``tests/portal/test_database_health.py`` terminates the connection a request kept and checks that
the next request, through Django's WSGI handler, still answers.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None:
            return False
        pgconn = connection.pgconn
        idle = pgconn.transaction_status == pq.TransactionStatus.IDLE
        if pgconn.status == pq.ConnStatus.OK and idle and not _readable(pgconn.socket):
            return True
        return super().is_usable()


def _readable(fd: int) -> bool:
    """Whether the socket has data, an end of file or an error waiting (without waiting for any).
    ``poll``, not ``select``: a worker may hold descriptors above ``select``'s limit of 1024."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))

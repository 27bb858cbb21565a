"""``/healthz`` for load balancers and orchestrators: can this instance reach its database and cache?

The database is required: without it the answer is 503 and the instance should get no traffic.
Redis is not: the portal keeps working without it (limits skipped, see portal/cache.py), and every
instance shares the same Redis, so a 503 would take them all out of the load balancer at once. A
Redis outage is reported as ``"status": "degraded"`` with 200, for monitoring to alert on.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from portal.cache import cache_state

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    cache = cache_state()  # "ok", "unreachable", or "local" (no REDIS_URL: per-process memory)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # The class name is enough to diagnose; the message may carry a connection string.
        logger.error("health check: database unreachable (%s)", type(exc).__name__)
        return JsonResponse({"status": "error", "database": "unreachable", "cache": cache}, status=503)
    status = "degraded" if cache == "unreachable" else "ok"
    return JsonResponse({"status": status, "database": "ok", "cache": cache})

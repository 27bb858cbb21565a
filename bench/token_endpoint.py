"""Load test of a running resident token endpoint with the client_credentials grant.

Starts nothing itself: point it at a server you started, e.g.

    gunicorn portal.wsgi -w 2 -b 127.0.0.1:8000 &
    python bench/token_endpoint.py --url http://127.0.0.1:8000 \
        --client-id CLIENT_ID --client-secret CLIENT_SECRET --requests 2000 --concurrency 8

Prints requests/s, the status codes seen and latency percentiles. The secret is only sent to
the server, never printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="Base URL of the portal.")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--scope", default="", help="Space-separated scopes to ask for.")
    parser.add_argument("--requests", type=int, default=1000, help="Total requests.")
    parser.add_argument("--concurrency", type=int, default=8, help="Threads sending at once.")
    parser.add_argument("--warmup", type=int, default=20, help="Requests sent first and not measured.")
    args = parser.parse_args(argv)

    token_url = args.url.rstrip("/") + "/oauth2/token"
    data = {"grant_type": "client_credentials"}
    if args.scope:
        data["scope"] = args.scope
    auth = (args.client_id, args.client_secret)
    local = threading.local()

    def session() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=30.0)
        return local.client

    def one(_: int) -> tuple[int, float]:
        started = time.perf_counter()
        try:
            status = session().post(token_url, data=data, auth=auth).status_code
        except httpx.HTTPError:
            status = 0
        return status, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        warm = Counter(status for status, _ in pool.map(one, range(args.warmup)))
        if args.warmup and warm.get(200, 0) == 0:
            print(
                f"warm-up got no 200 answers ({dict(warm)}): check the URL and credentials", file=sys.stderr
            )
            return 1
        started = time.perf_counter()
        results = list(pool.map(one, range(args.requests)))
        elapsed = time.perf_counter() - started

    statuses = Counter(status for status, _ in results)
    latencies = sorted(seconds * 1000 for _, seconds in results)
    print(f"{args.requests} requests, concurrency {args.concurrency}, {elapsed:.2f} s")
    print(f"throughput: {args.requests / elapsed:.1f} requests/s")
    print(f"statuses:   {dict(sorted(statuses.items()))}")
    print(
        "latency ms: "
        f"mean {statistics.fmean(latencies):.1f}  p50 {percentile(latencies, 0.50):.1f}  "
        f"p90 {percentile(latencies, 0.90):.1f}  p99 {percentile(latencies, 0.99):.1f}  max {latencies[-1]:.1f}"
    )
    return 0 if statuses.get(200, 0) == args.requests else 2


if __name__ == "__main__":
    sys.exit(main())

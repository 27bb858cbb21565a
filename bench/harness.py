"""bench/run: the performance table of the current code, with its peers measured in the same run.

One command (``bash bench/run``; ``--help`` for the options) does all of it on this machine, over
loopback: creates two PostgreSQL databases (the portal's and a stock django-oauth-toolkit
project's, bench/stockdot), seeds them, serves the portal, stock DOT and a bare Django view each
with ``gunicorn -w 2``, drives every row with wrk at 16 connections on empty token tables, seeds
a million stored tokens, drives every row again, checks the portal's rows for errors at 64
connections and the pages' server time on one connection, reads each worker's memory, prints the
table with the issue's targets (met / not met) and writes it to bench/results/. Then it stops
what it started and drops the databases.

It refuses to start on a busy machine (``--allow-busy`` runs anyway and marks the results as not
a measurement), and it watches the other processes' CPU during every row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
OUR_DB = "devportal_bench"
STOCK_DB = "devportal_bench_stockdot"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# What a run must use for its numbers to be the measurement (anything less is a smoke run).
FULL = {
    "duration": 10,
    "tokens": 1_000_000,
    "applications": 1000,
    "secrets": 100,
    "workers": 2,
    "connections": 16,
}
# Issue 14's targets that are not per row.
TARGET_LARGE_VS_EMPTY = 0.10  # every rate with the large table within 10% of the empty one
TARGET_RSS_MB = 120


class BenchError(Exception):
    """Something the benchmark cannot go on without: the message says what and what to do."""


# ---------------------------------------------------------------------------------------------
# Rows


@dataclass
class Row:
    key: str
    label: str
    server: str  # ours | stock | bare
    path: str
    method: str = "GET"
    # Which credential/token/cookie of the context the request carries (see request_env).
    auth: str = ""
    body: str = ""
    target_rps: float | None = None
    target_ratio: float | None = None  # against stock DOT (unhashed) in the same phase
    target_server_p50_ms: float | None = None

    @property
    def ours(self) -> bool:
        return self.server == "ours"

    def target_text(self) -> str:
        parts = []
        if self.target_rps:
            parts.append(f"≥ {self.target_rps:,.0f}/s")
        if self.target_ratio:
            parts.append(f"≥ {self.target_ratio}× stock")
        if self.target_server_p50_ms:
            parts.append(f"server p50 ≤ {self.target_server_p50_ms:g} ms")
        return ", ".join(parts)


ROWS = [
    Row("bare", "a bare Django view (no middleware; the ceiling)", "bare", "/"),
    Row("healthz", "our `/healthz` (full middleware + one query)", "ours", "/healthz"),
    Row(
        "stock_unhashed",
        "stock django-oauth-toolkit, client_credentials, unhashed secret, opaque",
        "stock",
        "/o/token/",
        "POST",
        auth="stock_unhashed",
        body="grant_type=client_credentials",
    ),
    Row(
        "stock_hashed",
        "stock django-oauth-toolkit, default hashed secret, opaque",
        "stock",
        "/o/token/",
        "POST",
        auth="stock_hashed",
        body="grant_type=client_credentials",
    ),
    Row(
        "token_jwt",
        "ours, client_credentials, JWT",
        "ours",
        "/oauth2/token",
        "POST",
        auth="basic_jwt",
        body="grant_type=client_credentials",
        target_rps=1000,
        target_ratio=1.6,
    ),
    Row(
        "token_opaque",
        "ours, client_credentials, opaque",
        "ours",
        "/oauth2/token",
        "POST",
        auth="basic_oauth",
        body="grant_type=client_credentials",
        target_rps=900,
    ),
    Row(
        "introspect_opaque",
        "ours, introspection (opaque token)",
        "ours",
        "/oauth2/introspect",
        "POST",
        auth="basic_oauth",
        body="token={opaque}",
        target_rps=1500,
    ),
    Row(
        "introspect_jwt",
        "ours, introspection (JWT)",
        "ours",
        "/oauth2/introspect",
        "POST",
        auth="basic_jwt",
        body="token={jwt}",
        target_rps=1500,
    ),
    Row(
        "hello_jwt",
        "ours, `/sample/hello` with a JWT",
        "ours",
        "/sample/hello",
        auth="bearer_jwt",
        target_rps=2000,
    ),
    Row(
        "hello_opaque",
        "ours, `/sample/hello` with an opaque token",
        "ours",
        "/sample/hello",
        auth="bearer_opaque",
        target_rps=1500,
    ),
    Row(
        "applications_page",
        "ours, applications page ({applications:,} applications)",
        "ours",
        "{applications_page}",
        auth="cookie",
        target_server_p50_ms=15,
    ),
    Row(
        "keys_page",
        "ours, keys page (a key with {secrets} secrets)",
        "ours",
        "{keys_page}",
        auth="cookie",
        target_server_p50_ms=15,
    ),
]
PEER = "stock_unhashed"


def request_env(row: Row, context: dict) -> dict[str, str]:
    """The BENCH_* variables bench/wrk.lua builds the request from."""
    env = {"BENCH_METHOD": row.method, "BENCH_BODY": row.body.format(**context)}
    if row.auth == "cookie":
        env["BENCH_COOKIE"] = context["cookie"]
    elif row.auth.startswith("bearer_"):
        env["BENCH_AUTHORIZATION"] = "Bearer " + context[row.auth.removeprefix("bearer_")]
    elif row.auth:
        env["BENCH_AUTHORIZATION"] = context[row.auth]
    return env


# ---------------------------------------------------------------------------------------------
# The machine: is anything else using the CPUs?


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]), idle


def process_ticks() -> dict[int, tuple[str, int]]:
    """pid -> (command name, user+system CPU ticks so far) for every process we can read."""
    ticks = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        ticks[int(entry.name)] = (name, int(fields[11]) + int(fields[12]))
    return ticks


def busy_sample(seconds: float = 2.0) -> tuple[float, list[tuple[float, int, str]]]:
    """Share of all CPUs in use over ``seconds`` (0..1), and the processes using them (% of one CPU)."""
    total0, idle0 = _cpu_times()
    procs0 = process_ticks()
    time.sleep(seconds)
    total1, idle1 = _cpu_times()
    procs1 = process_ticks()
    busy = 1 - (idle1 - idle0) / max(1, total1 - total0)
    users = []
    for pid, (name, t1) in procs1.items():
        if pid == os.getpid():
            continue
        delta = t1 - procs0.get(pid, (name, t1))[1]
        percent = 100 * delta / (seconds * CLK_TCK)
        if percent >= 2:
            users.append((percent, pid, name))
    return busy, sorted(users, reverse=True)


def check_machine(args) -> list[str]:
    """Refuse (BenchError) when the machine is busy, unless --allow-busy; return the warnings."""
    load1 = os.getloadavg()[0]
    busy, users = busy_sample()
    cores = os.cpu_count() or 1
    problems = []
    if busy * 100 > args.max_busy:
        problems.append(f"{busy:.0%} of the CPUs were busy over 2 s (limit {args.max_busy:g}%)")
    if load1 > args.max_load:
        problems.append(
            f"load average {load1:.2f} over the last minute (limit {args.max_load:g} on {cores} cores)"
        )
    if not problems:
        return []
    lines = [*problems, *(f"  {p:5.1f}% of a CPU: pid {pid} {name}" for p, pid, name in users[:8])]
    if not args.allow_busy:
        raise BenchError(
            "the machine is busy; numbers taken now would measure the other work, not the code:\n  "
            + "\n  ".join(lines)
            + "\nWait until it is idle, or pass --allow-busy to run anyway (the results are then marked as "
            "not a measurement)."
        )
    banner = "!" * 78
    print(f"{banner}\nWARNING: THE MACHINE IS BUSY; THESE RESULTS ARE NOT A MEASUREMENT\n", file=sys.stderr)
    print("\n".join(lines) + f"\n{banner}", file=sys.stderr)
    return ["machine busy at the start: " + "; ".join(problems)]


# ---------------------------------------------------------------------------------------------
# Processes: PostgreSQL, gunicorn, wrk


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        apt_get = shutil.which("apt-get")
        subprocess.run([apt_get, "install", "-y", "-q", "wrk"], check=False, stdout=subprocess.DEVNULL)  # noqa: S603
        path = shutil.which("wrk")
    if not path:
        raise BenchError("wrk is missing: install Debian's package (apt-get install -y wrk) and run again")
    return path


def pg_admin(args, *statements: str) -> None:
    import psycopg

    try:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)
    except psycopg.Error as exc:
        raise BenchError(f"PostgreSQL at {redact(args.pg)}: {exc}") from exc


def refuse_if_in_use(args) -> None:
    """Dropping the databases under another bench/run would break it: refuse instead."""
    import psycopg

    try:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            (busy,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = ANY(%s)", [[OUR_DB, STOCK_DB]]
            ).fetchone()
    except psycopg.Error as exc:
        raise BenchError(f"PostgreSQL at {redact(args.pg)}: {exc}") from exc
    if busy:
        raise BenchError(
            f"{OUR_DB} or {STOCK_DB} has {busy} open connection(s): another bench/run (or a kept "
            "server) is using them. Stop it first; this run would drop its databases."
        )


def pg_database_url(args, name: str) -> str:
    parts = urllib.parse.urlsplit(args.pg)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(":" + parts.password + "@", ":***@"))
    return urllib.parse.urlunsplit(parts)


def other_client_backends(args) -> set[int]:
    """PostgreSQL backends serving other databases: their CPU is another user's, not the run's."""
    import psycopg

    try:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' "
                "AND datname IS DISTINCT FROM ALL(%s)",
                [[OUR_DB, STOCK_DB, urllib.parse.urlsplit(args.pg).path.lstrip("/")]],
            ).fetchall()
    except psycopg.Error:
        return set()
    return {pid for (pid,) in rows}


def run_python(script: Path, env: dict, *script_args: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
        [str(PYTHON), str(script), *script_args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.stderr.strip():
        print(result.stderr.strip(), file=sys.stderr)
    if result.returncode != 0:
        raise BenchError(f"{script.relative_to(ROOT)} failed (exit {result.returncode})")
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        return [self.process.pid, *self.workers()]

    def workers(self) -> list[int]:
        found = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    with open(f"/proc/{entry.name}/stat") as f:
                        raw = f.read()
                except OSError:
                    continue
                if int(raw[raw.rindex(")") + 2 :].split()[1]) == self.process.pid:
                    found.append(int(entry.name))
        return sorted(found)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_server(name: str, app: str, env: dict, workers: int, logdir: Path, chdir: Path = ROOT) -> Server:
    port = free_port()
    log = logdir / f"{name}.log"
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            str(VENV_BIN / "gunicorn"),
            app,
            "--chdir",
            str(chdir),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=chdir,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    server = Server(name, port, process, log)
    for _ in range(150):
        if process.poll() is not None:
            raise BenchError(f"gunicorn ({name}) exited at start; its log: {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.2)
    else:
        raise BenchError(f"gunicorn ({name}) does not answer; its log: {log}")
    return server


def http(method: str, url: str, *, headers: dict | None = None, body: str = "") -> tuple[int, bytes]:
    # Only ever http://127.0.0.1:<port> of a server this run started.
    request = urllib.request.Request(url, data=body.encode() or None, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


urllib.request.install_opener(urllib.request.build_opener(NoRedirect))


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# ---------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Result:
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    first_bad_status: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    others_cpu: float = 0.0  # share of all CPUs other processes used during the row (0..1)
    failure: str = ""  # the row could not be measured: why

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def errors_text(self) -> str:
        if self.failure:
            return "—"
        if self.errors and self.first_bad_status:
            return f"{self.errors:,} (e.g. {self.first_bad_status})"
        return f"{self.errors:,}"


def wrk(args, url: str, env: dict, connections: int, seconds: int, *, exclude: set[int]) -> Result:
    command = [
        args.wrk,
        f"-t{min(args.wrk_threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        f"{args.timeout}s",
        "-s",
        str(BENCH / "wrk.lua"),
        url,
    ]
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    before_total = _cpu_times()[0]
    before = process_ticks()
    completed = subprocess.run(command, env=full_env, capture_output=True, text=True)  # noqa: S603 - fixed argv
    after = process_ticks()
    after_total = _cpu_times()[0]
    line = next((x for x in completed.stdout.splitlines() if x.startswith("BENCH ")), None)
    if completed.returncode != 0 or line is None:
        return Result(failure=f"wrk failed: {completed.stderr.strip() or completed.stdout.strip()}"[:200])
    data = json.loads(line.removeprefix("BENCH "))
    if data["requests"] == 0:
        # Nothing answered within the run: no rate, and certainly not "zero errors".
        return Result(failure=f"no request completed in {seconds} s")
    others = other_client_backends(args)
    other_ticks = 0
    for pid, (name, ticks) in after.items():
        if pid in exclude or name == "wrk" or (name == "postgres" and pid not in others):
            continue
        other_ticks += ticks - before.get(pid, (name, ticks))[1]
    return Result(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["non2xx"] + data["connect"] + data["read"] + data["write"] + data["timeout"],
        first_bad_status=data["first_bad_status"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        others_cpu=other_ticks / max(1, after_total - before_total),
    )


@dataclass
class Run:
    args: argparse.Namespace
    context: dict
    servers: dict[str, Server]
    warnings: list[str]
    phases: dict[str, dict[str, Result]] = field(default_factory=lambda: {"empty": {}, "large": {}})
    check: dict[str, Result] = field(default_factory=dict)
    server_time: dict[str, Result] = field(default_factory=dict)
    rss: dict[str, list[float]] = field(default_factory=dict)
    unusable: dict[str, str] = field(default_factory=dict)  # row -> why it was not run
    rounds: list[tuple[str, str, Result]] = field(default_factory=list)  # every c16 run, in order

    def exclude(self) -> set[int]:
        return {os.getpid(), *(pid for s in self.servers.values() for pid in s.pids())}

    def url(self, row: Row) -> str:
        return self.servers[row.server].base + row.path.format(**self.context)

    def settle(self, limit: float = 60.0) -> None:
        """Wait until the servers are idle. wrk stops sending when its time is up, but gunicorn still
        works off what was queued: sixteen stock-DOT hashed-secret requests are seconds of PBKDF2,
        which would otherwise be charged to the next row."""
        pids = {pid for server in self.servers.values() for pid in server.workers()}
        deadline = time.monotonic() + limit
        before = process_ticks()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            after = process_ticks()
            used = sum(after.get(p, ("", 0))[1] - before.get(p, ("", 0))[1] for p in pids)
            if used <= 0.25 * CLK_TCK * 0.05:  # under 5% of a CPU over the last quarter second
                return
            before = after
        self.warnings.append(f"the servers were still busy {limit:.0f} s after a row ended")

    def measure(self, row: Row, connections: int, seconds: int, warmup: int) -> Result:
        env = request_env(row, self.context)
        if warmup:
            wrk(self.args, self.url(row), env, connections, warmup, exclude=self.exclude())
            self.settle()
        result = wrk(self.args, self.url(row), env, connections, seconds, exclude=self.exclude())
        self.settle()
        return result

    def all_results(self) -> list[tuple[str, str, Result]]:
        """(row, which run, result) of every measured wrk run, in the order they ran."""
        runs = list(self.rounds)
        runs += [(k, f"large, c{self.args.check_connections}", r) for k, r in self.check.items()]
        runs += [(k, "large, c1 (server time)", r) for k, r in self.server_time.items()]
        return runs

    def shared_runs(self) -> list[tuple[str, str, Result]]:
        """The runs during which other processes used more of the CPUs than --max-busy allows."""
        return [x for x in self.all_results() if x[2].others_cpu * 100 > self.args.max_busy]


def selected_rows(args) -> list[Row]:
    if not args.only:
        return ROWS
    wanted = set(args.only.split(","))
    unknown = wanted - {r.key for r in ROWS}
    if unknown:
        raise BenchError(
            f"--only: no row {', '.join(sorted(unknown))}; rows: {', '.join(r.key for r in ROWS)}"
        )
    return [r for r in ROWS if r.key in wanted]


def preflight(run: Run, rows: list[Row]) -> None:
    """One request per row: a row that does not answer 2xx is reported, not measured."""
    for row in rows:
        env = request_env(row, run.context)
        headers = {}
        if "BENCH_AUTHORIZATION" in env:
            headers["Authorization"] = env["BENCH_AUTHORIZATION"]
        if "BENCH_COOKIE" in env:
            headers["Cookie"] = env["BENCH_COOKIE"]
        if env["BENCH_BODY"]:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, _ = http(row.method, run.url(row), headers=headers, body=env["BENCH_BODY"])
        if not 200 <= status < 300:
            run.unusable[row.key] = f"answers {status} before any load; see {run.servers[row.server].log}"


def get_tokens(run: Run) -> None:
    base = run.servers["ours"].base
    for kind, auth in (("jwt", "basic_jwt"), ("opaque", "basic_oauth")):
        status, body = http(
            "POST",
            base + "/oauth2/token",
            headers={"Authorization": run.context[auth], "Content-Type": "application/x-www-form-urlencoded"},
            body="grant_type=client_credentials",
        )
        if status != 200:
            raise BenchError(f"the portal's token endpoint answered {status}; see {run.servers['ours'].log}")
        run.context[kind] = json.loads(body)["access_token"]


def measure_phase(run: Run, rows: list[Row], phase: str) -> None:
    """Every row, ``--repeat`` times in interleaved rounds (so a slow minute of the machine hits
    every row alike); a row's figure is its median round, every round is in the details."""
    args = run.args
    rounds: dict[str, list[Result]] = {}
    for number in range(1, args.repeat + 1):
        for row in rows:
            if row.key in run.unusable:
                continue
            which = f" (round {number})" if args.repeat > 1 else ""
            print(f"  {phase:5}  {row.key:18} ", end="", flush=True, file=sys.stderr)
            result = run.measure(row, args.connections, args.duration, args.warmup)
            rounds.setdefault(row.key, []).append(result)
            run.rounds.append((row.key, f"{phase}, c{args.connections}{which}", result))
            print(
                (result.failure or f"{result.rps:9,.1f}/s  errors {result.errors_text()}") + which,
                file=sys.stderr,
            )
    for key, results in rounds.items():
        failed = [r for r in results if r.failure]
        # A failed round fails the row: a median would hide it.
        run.phases[phase][key] = (
            failed[0] if failed else sorted(results, key=lambda r: r.rps)[len(results) // 2]
        )


# ---------------------------------------------------------------------------------------------
# The report


def fmt_rps(result: Result | None) -> str:
    if result is None:
        return "—"
    return "failed" if result.failure else f"{result.rps:,.0f}"


def ratio(result: Result | None, peer: Result | None) -> float | None:
    if not result or not peer or result.failure or peer.failure or not peer.rps:
        return None
    return result.rps / peer.rps


def row_met(run: Run, row: Row) -> bool | None:
    """The row's own target over both phases (None: no target, or nothing measured)."""
    if not (row.target_rps or row.target_ratio or row.target_server_p50_ms):
        return None
    results = [run.phases[p].get(row.key) for p in ("empty", "large")]
    if any(r is None or r.failure for r in results):
        return False if row.key in run.unusable else None
    met = True
    if row.target_rps:
        met &= all(r.rps >= row.target_rps for r in results)
    if row.target_ratio:
        ratios = [ratio(run.phases[p].get(row.key), run.phases[p].get(PEER)) for p in ("empty", "large")]
        met &= all(x is not None and x >= row.target_ratio for x in ratios)
    if row.target_server_p50_ms:
        timed = run.server_time.get(row.key)
        met &= bool(timed and not timed.failure and timed.p50_ms <= row.target_server_p50_ms)
    return met


def yes_no(value: bool | None) -> str:
    return "—" if value is None else ("**met**" if value else "**not met**")


def report(run: Run, rows: list[Row], started: dt.datetime, machine: str, not_measurement: list[str]) -> str:
    args = run.args
    lines = []
    title = f"# bench/run — {started:%Y-%m-%d %H:%M} UTC"
    lines += [title, ""]
    if not_measurement:
        lines += ["**NOT A MEASUREMENT** (smoke run): " + "; ".join(not_measurement) + ".", ""]
    lines += [machine, ""]
    lines += [
        f"gunicorn -w {args.workers} (sync workers), PostgreSQL, wrk -t{args.wrk_threads} -c{args.connections} "
        f"-d{args.duration}s (after {args.warmup} s of warm-up) on loopback, wrk on the same cores. "
        f"Each rate twice: on empty token tables (only the tokens this run issued) and with "
        f"{args.tokens:,} stored tokens seeded in each server's table (half expired)"
        + (f", each the median of {args.repeat} interleaved rounds. " if args.repeat > 1 else ". ")
        + f"Our rows at {args.check_connections} connections and the pages on one ran "
        f"{args.check_duration} s each, on the large table. "
        f"Errors: non-2xx answers and socket errors. × stock: the rate over stock django-oauth-toolkit's "
        f"(unhashed secret) in the same phase. Server p50: latency on one connection with nothing "
        f"queued (loopback adds ~0.1 ms)."
        + (
            " The portal ran with "
            + ", ".join(sorted({i.partition("=")[0] for i in args.portal_env}))
            + " set."
            if args.portal_env
            else ""
        ),
        "",
        "| endpoint | req/s empty | req/s "
        + f"{args.tokens:,}"
        + " tokens | large/empty | p50 | p99 | errors c"
        + f"{args.connections} | errors c{args.check_connections} | server p50 | × stock | target | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        empty, large = run.phases["empty"].get(row.key), run.phases["large"].get(row.key)
        label = row.label.format(applications=args.applications, secrets=args.secrets)
        if row.key in run.unusable:
            lines.append(f"| {label} | not measured: {run.unusable[row.key]} |||||||||| **not met** |")
            continue
        shown = large if large and not large.failure else empty
        drift = ratio(large, empty)
        check = run.check.get(row.key)
        timed = run.server_time.get(row.key)
        peer_ratio = ratio(large, run.phases["large"].get(PEER))
        lines.append(
            "| "
            + " | ".join(
                [
                    label,
                    fmt_rps(empty),
                    fmt_rps(large),
                    f"{drift:.2f}" if drift is not None else "—",
                    f"{shown.p50_ms:.1f} ms" if shown and not shown.failure else "—",
                    f"{shown.p99_ms:.1f} ms" if shown and not shown.failure else "—",
                    " / ".join(r.errors_text() for r in (empty, large) if r),
                    check.errors_text() if check else "—",
                    f"{timed.p50_ms:.1f} ms" if timed and not timed.failure else "—",
                    f"{peer_ratio:.2f}×" if peer_ratio is not None and row.key != PEER else "—",
                    row.target_text() or "—",
                    yes_no(row_met(run, row)),
                ]
            )
            + " |"
        )
    lines += [
        "",
        f"p50 and p99 are from the {args.tokens:,}-token phase; errors c{args.connections} are empty / large.",
        "",
    ]

    lines += ["## Memory after the run (RSS of each gunicorn worker)", ""]
    for name, values in run.rss.items():
        shown = ", ".join(f"{v:.0f} MB" for v in values) or "—"
        lines.append(f"- {name}: {shown}")
    lines.append("")

    lines += ["## Targets of issue 14", ""]
    ours = [r for r in rows if r.ours]
    for row in ours:
        if row.target_text():
            label = row.label.format(applications=args.applications, secrets=args.secrets)
            lines.append(f"- {label}: {row.target_text()} — {yes_no(row_met(run, row))}")
    measured_checks = [run.check.get(r.key) for r in ours if r.key not in run.unusable]
    zero = all(c is not None and not c.failure and c.errors == 0 for c in measured_checks) and measured_checks
    lines.append(f"- zero errors at {args.check_connections} connections (our rows) — {yes_no(bool(zero))}")
    drifts = {r.key: ratio(run.phases["large"].get(r.key), run.phases["empty"].get(r.key)) for r in ours}
    far = [k for k, v in drifts.items() if v is None or abs(1 - v) > TARGET_LARGE_VS_EMPTY]
    lines.append(
        f"- with {args.tokens:,} stored tokens every rate within {TARGET_LARGE_VS_EMPTY:.0%} of the empty "
        f"table — {yes_no(not far)}" + (f" (not: {', '.join(far)})" if far else "")
    )
    our_rss = run.rss.get("ours", [])
    lines.append(
        f"- each worker ≤ {TARGET_RSS_MB} MB RSS after the run — "
        f"{yes_no(bool(our_rss) and max(our_rss) <= TARGET_RSS_MB)}"
    )
    lines.append("- p99 reported — **met** (column p99)")
    lines.append("")

    details = run.all_results()
    lines += [
        "## Every wrk run",
        "",
        "| row | run | requests | req/s | p50 | p99 | errors | other processes' CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, what, r in details:
        if r.failure:
            lines.append(f"| {key} | {what} | {r.failure} ||||||")
        else:
            lines.append(
                f"| {key} | {what} | {r.requests:,} | {r.rps:,.1f} | {r.p50_ms:.2f} ms | {r.p99_ms:.2f} ms "
                f"| {r.errors_text()} | {r.others_cpu:.0%} |"
            )
    lines.append("")
    if run.warnings:
        lines += ["## Warnings", "", *(f"- {w}" for w in run.warnings), ""]
    return "\n".join(lines)


def results_json(run: Run, started: dt.datetime, not_measurement: list[str]) -> dict:
    def result(r: Result) -> dict:
        keys = (
            "requests",
            "seconds",
            "errors",
            "first_bad_status",
            "p50_ms",
            "p99_ms",
            "others_cpu",
            "failure",
        )
        return {"rps": round(r.rps, 1), **{k: getattr(r, k) for k in keys}}

    return {
        "started": started.isoformat(),
        "measurement": not not_measurement,
        "not_measurement": not_measurement,
        "options": {
            **{k: v for k, v in vars(run.args).items() if k not in ("pg", "results_dir", "portal_env")},
            "portal_env": sorted({i.partition("=")[0] for i in run.args.portal_env}),
        },
        "runs": [{"row": k, "run": what, **result(r)} for k, what, r in run.all_results()],
        "not_measured": run.unusable,
        "rss_mb": {k: [round(v, 1) for v in values] for k, values in run.rss.items()},
        "warnings": run.warnings,
    }


def _version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)  # noqa: S603 - fixed argv
    except OSError:
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else "?"


def machine_description(args) -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        memory_gb = int(f.readline().split()[1]) / 1024 / 1024
    git = shutil.which("git") or "git"
    commit = _version([git, "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(  # noqa: S603 - fixed argv
        [git, "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    versions = subprocess.run(  # noqa: S603 - fixed argv
        [
            str(PYTHON),
            "-c",
            "import django, oauth2_provider, oauthlib; "
            "print(django.get_version(), oauth2_provider.__version__, oauthlib.__version__)",
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    while len(versions) < 3:
        versions.append("?")
    return (
        f"Machine: {model}, {os.cpu_count()} CPUs, {memory_gb:.1f} GB, {platform.platform()}. "
        f"Code: commit {commit}{' with uncommitted changes' if dirty else ''}. "
        f"Python {platform.python_version()}, Django {versions[0]}, django-oauth-toolkit {versions[1]}, "
        f"oauthlib {versions[2]}, {_version([str(VENV_BIN / 'gunicorn'), '--version'])}, "
        f"{_version([args.wrk, '--version']).split(' Copyright')[0]}."
    )


# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description=__doc__.split("\n\n")[0].removeprefix("bench/run: ").capitalize(),
        epilog="Rows: " + ", ".join(r.key for r in ROWS) + ". "
        "Results go to bench/results/<date>.md (a smoke run's to <date>-smoke.md, which git ignores).",
    )
    parser.add_argument("--duration", type=int, default=FULL["duration"], help="seconds per row (default 10)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="unmeasured seconds before each row (default 2)"
    )
    parser.add_argument("--connections", type=int, default=FULL["connections"], help="default 16")
    parser.add_argument(
        "--check-connections", type=int, default=64, help="the zero-error check of our rows (default 64)"
    )
    parser.add_argument("--check-duration", type=int, default=5, help="seconds of that check (default 5)")
    parser.add_argument("--workers", type=int, default=FULL["workers"], help="gunicorn workers (default 2)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="default 2")
    parser.add_argument(
        "--timeout", type=int, default=10, help="wrk's request timeout in seconds (default 10)"
    )
    parser.add_argument(
        "--tokens",
        type=int,
        default=FULL["tokens"],
        help="stored tokens of the large phase (default 1,000,000)",
    )
    parser.add_argument(
        "--applications",
        type=int,
        default=FULL["applications"],
        help="the developer's applications (default 1000)",
    )
    parser.add_argument(
        "--secrets", type=int, default=FULL["secrets"], help="secrets on the key (default 100)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of every row per phase; the median counts (default 1)"
    )
    parser.add_argument("--only", help="comma-separated rows to run (stock_unhashed is needed for × stock)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="check the script works: 2 s rows, 1 s warm-up and checks, 10,000 tokens (not a measurement)",
    )
    parser.add_argument(
        "--allow-busy",
        action="store_true",
        help="run on a busy machine (the results say they are not a measurement)",
    )
    parser.add_argument(
        "--max-busy", type=float, default=10, help="%% of all CPUs in use that counts as busy"
    )
    parser.add_argument(
        "--max-load",
        type=float,
        default=(os.cpu_count() or 1) * 0.5,
        help="1-minute load average that counts as busy (default half the CPUs)",
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL maintenance database to create the bench databases from (env BENCH_PG)",
    )
    parser.add_argument(
        "--portal-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the portal's processes (repeatable), e.g. REDIS_URL=redis://…; "
        "the results name the variable, never its value",
    )
    parser.add_argument(
        "--keep-databases", action="store_true", help="do not drop the bench databases at the end"
    )
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.warmup, args.check_duration = 2, 1, 1
        if args.tokens == FULL["tokens"]:
            args.tokens = 10_000
    for name in (
        "duration",
        "connections",
        "check_connections",
        "workers",
        "wrk_threads",
        "timeout",
        "repeat",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("warmup", "check_duration", "tokens", "applications"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must not be negative")
    if args.secrets < 1:
        parser.error("--secrets must be at least 1")
    for item in args.portal_env:
        name, sep, _ = item.partition("=")
        if not sep or not name.isidentifier():
            parser.error(f"--portal-env takes NAME=VALUE, not {name!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return bench(args)
    except BenchError as exc:
        print(f"bench/run: {exc}", file=sys.stderr)
        return 2


def bench(args) -> int:
    rows = selected_rows(args)
    started = dt.datetime.now(dt.UTC)
    warnings = check_machine(args)
    args.wrk = ensure_wrk()
    # The commit the servers load, read before they start: what the results describe.
    machine = machine_description(args)
    not_measurement = [
        f"{name} {getattr(args, name)} (a measurement uses {value})"
        for name, value in FULL.items()
        if (
            getattr(args, name) < value
            if name in ("duration", "tokens", "applications", "secrets")
            else getattr(args, name) != value
        )
    ]
    if warnings:
        not_measurement.append("the machine was busy")
    if args.only:
        not_measurement.append(f"only the rows {args.only}")

    logdir = Path(tempfile.mkdtemp(prefix="bench-"))
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME") or tempfile.gettempdir(),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    ours_env = {
        **base_env,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": pg_database_url(args, OUR_DB),
        "DEBUG": "false",
        "PORTAL_HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
        "LOG_LEVEL": "WARNING",
        # One client hammering /oauth2/token is what the abuse limits stop; the benchmark measures
        # throughput (stock DOT has no limits either). --portal-env can switch them back on.
        "PORTAL_RATELIMIT_ENABLED": "false",
        **dict(item.partition("=")[::2] for item in args.portal_env),
    }
    stock_env = {
        **base_env,
        "DJANGO_SETTINGS_MODULE": "stockdot.settings",
        "PYTHONPATH": str(BENCH),
        "STOCKDOT_DATABASE_URL": pg_database_url(args, STOCK_DB),
        "STOCKDOT_SECRET_KEY": secrets.token_urlsafe(48),
    }
    servers: dict[str, Server] = {}
    refuse_if_in_use(args)
    print(f"bench/run: databases {OUR_DB} and {STOCK_DB}; logs in {logdir}", file=sys.stderr)
    pg_admin(
        args,
        *(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)" for db in (OUR_DB, STOCK_DB)),
        *(f"CREATE DATABASE {db}" for db in (OUR_DB, STOCK_DB)),
    )
    try:
        manage = ROOT / "manage.py"
        run_python(manage, ours_env, "migrate", "-v0")
        run_python(manage, ours_env, "collectstatic", "--noinput", "-v0")
        stock_manage = BENCH / "stockdot" / "manage.py"
        run_python(stock_manage, stock_env, "migrate", "-v0")
        print("  seeding the portal's developer, applications and secrets…", file=sys.stderr)
        context = json.loads(
            run_python(
                BENCH / "seed.py",
                ours_env,
                f"--applications={args.applications}",
                f"--secrets={args.secrets}",
            )
        )
        context.update(
            {
                f"stock_{k.removeprefix('basic_')}": v
                for k, v in json.loads(run_python(BENCH / "stockdot" / "seed.py", stock_env)).items()
            }
        )
        servers["ours"] = start_server("ours", "portal.wsgi", ours_env, args.workers, logdir)
        servers["stock"] = start_server(
            "stock", "stockdot.wsgi", stock_env, args.workers, logdir, chdir=BENCH
        )
        servers["bare"] = start_server(
            "bare", "bare:application", base_env, args.workers, logdir, chdir=BENCH
        )
        run = Run(args, context, servers, warnings)
        get_tokens(run)
        preflight(run, rows)

        print("  phase 1: empty token tables", file=sys.stderr)
        measure_phase(run, rows, "empty")
        print(f"  seeding {args.tokens:,} stored tokens into each database…", file=sys.stderr)
        if args.tokens:
            run_python(BENCH / "seed_tokens.py", ours_env, f"--count={args.tokens}")
            run_python(BENCH / "seed_tokens.py", stock_env, f"--count={args.tokens}")
        print(f"  phase 2: {args.tokens:,} stored tokens", file=sys.stderr)
        measure_phase(run, rows, "large")

        print(f"  our rows at {args.check_connections} connections, pages on one", file=sys.stderr)
        for row in rows:
            if not row.ours or row.key in run.unusable:
                continue
            run.check[row.key] = result = run.measure(row, args.check_connections, args.check_duration, 0)
            print(
                f"  c{args.check_connections:<4} {row.key:18} errors {result.failure or result.errors_text()}",
                file=sys.stderr,
            )
            if row.target_server_p50_ms:
                run.server_time[row.key] = result = run.measure(row, 1, args.check_duration, 0)
                print(
                    f"  c1    {row.key:18} p50 {result.failure or f'{result.p50_ms:.1f} ms'}", file=sys.stderr
                )
        for name, server in servers.items():
            run.rss[name] = [v for v in (rss_mb(pid) for pid in server.workers()) if v is not None]
    finally:
        for server in servers.values():
            server.stop()
        if not args.keep_databases:
            pg_admin(args, *(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)" for db in (OUR_DB, STOCK_DB)))

    shared = run.shared_runs()
    if shared:
        worst = max(r.others_cpu for _, _, r in shared)
        run.warnings.append(
            f"other processes used more than {args.max_busy:g}% of the CPUs during {len(shared)} of "
            f"{len(run.all_results())} runs (up to {worst:.0%}; see the last column above)"
        )
        not_measurement.append("other processes used the CPUs during the run (see Warnings)")
    if machine_description(args) != machine:
        not_measurement.append("the code changed during the run (another commit, or edits to tracked files)")
    text = report(run, rows, started, machine, not_measurement)
    print(text)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    suffix = "-smoke" if not_measurement else ""
    path = args.results_dir / f"{started:%Y-%m-%dT%H%M}{suffix}.md"
    path.write_text(text + "\n")
    # The same numbers for scripts (comparing two runs, lever by lever).
    path.with_suffix(".json").write_text(
        json.dumps(results_json(run, started, not_measurement), indent=1) + "\n"
    )
    print(
        f"bench/run: written to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} (and .json)",
        file=sys.stderr,
    )
    if run.unusable or any(r.failure for phase in run.phases.values() for r in phase.values()):
        print(f"bench/run: the servers' logs are kept in {logdir}", file=sys.stderr)
    else:
        shutil.rmtree(logdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

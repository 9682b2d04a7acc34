"""The benchmark harness: a registry of benchmarks, their timing and the BENCHMARKS.md report.

Two kinds of benchmark register here, each with a few lines in `cocm.bench.benchmarks`:

- `@benchmark` — one request or query, timed in process `repeat` times (median and p95),
  against an optional *floor*: one hand-written SQL query that fetches the same data on the
  same engine. The ratio product/floor says what the framework costs on top of the data.
- `@load_benchmark` — many concurrent clients against the production server (`cocm serve
  --production`, gunicorn) on the loopback interface: requests per second, errors, latency and
  the resident memory of each worker.
"""

import http.client
import json
import math
import os
import platform
import re
import resource
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import import_module
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import django
from django.apps import apps
from django.conf import settings
from django.db import connection, reset_queries
from django.db.models import Count, Max
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from cocm.accounts.models import User
from cocm.care.models import Contact
from cocm.population import DEMO_ORGANIZATION
from cocm.registry.models import Episode, Patient

# ---------------------------------------------------------------------------------------------
# The registry


@dataclass(frozen=True)
class Target:
    """The figures a benchmark must reach; None means no target on that figure."""

    p95_ms: float | None = None
    floor_ratio: float | None = None
    requests_per_second: float | None = None
    errors: int | None = None
    worker_mb: float | None = None
    # Python allocations during one call (tracemalloc's peak).
    allocated_mb: float | None = None

    def __str__(self) -> str:
        parts = []
        if self.p95_ms is not None:
            parts.append(f"p95 < {self.p95_ms:g} ms")
        if self.floor_ratio is not None:
            parts.append(f"≤ {self.floor_ratio:g}× floor")
        if self.requests_per_second is not None:
            parts.append(f"≥ {self.requests_per_second:g} req/s")
        if self.errors is not None:
            parts.append(f"{self.errors} errors" if self.errors else "zero errors")
        if self.worker_mb is not None:
            parts.append(f"< {self.worker_mb:g} MB/worker")
        if self.allocated_mb is not None:
            parts.append(f"< {self.allocated_mb:g} MB allocated")
        return ", ".join(parts) or "—"


@dataclass(frozen=True)
class Population:
    """The seeded rows the benchmarks read: the demo care manager and one of her patients,
    and the demo biller with the last complete month of the seeded history."""

    care_manager: User
    episode_ids: tuple[int, ...]  # her open episodes: the caseload
    patient_id: int  # the caseload patient with the longest history: the heaviest chart
    episode_id: int  # that patient's open episode
    today: date  # in the organization's time zone, as the pages see it
    billing_user: User  # the demo biller, a member of every demo clinic
    billing_month: date  # first day of the month before the population's as-of date

    @property
    def billing_month_end(self) -> date:
        """First day of the month after `billing_month`."""
        year, month = divmod(self.billing_month.year * 12 + self.billing_month.month, 12)
        return date(year, month + 1, 1)

    @property
    def floor_params(self) -> dict[str, object]:
        """The named parameters a floor query may use: %(care_manager_id)s and the others."""
        return {
            "care_manager_id": self.care_manager.id,
            "patient_id": self.patient_id,
            "episode_id": self.episode_id,
            "today": self.today,
            "month_start": self.today.replace(day=1),
            "billing_user_id": self.billing_user.id,
            "billing_month_start": self.billing_month,
            "billing_month_end": self.billing_month_end,
        }


# `setup(population)` does the untimed preparation (sign-in, token) and returns the call to time.
Setup = Callable[[Population], Callable[[], object]]


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    setup: Setup
    floor_sql: str | None = None
    target: Target = field(default_factory=Target)
    # At most this many timed runs (and one warm-up), for a call that takes seconds.
    max_repeat: int | None = None
    # More named parameters for the floor, computed from the population (e.g. the dates of
    # a measurement year).
    floor_params: Callable[[Population], dict[str, object]] | None = None

    def runs(self, repeat: int) -> int:
        return min(repeat, self.max_repeat) if self.max_repeat else repeat


@dataclass(frozen=True)
class LoadRequest:
    """What each load client sends: paths taken at random, and the same headers on each."""

    paths: tuple[str, ...]
    headers: dict[str, str]


# `setup(population, secret_key)`: the server signs sessions with its own secret key.
LoadSetup = Callable[[Population, str], LoadRequest]


@dataclass(frozen=True)
class LoadBenchmark:
    name: str
    description: str
    setup: LoadSetup
    target: Target = field(default_factory=Target)


BENCHMARKS: dict[str, Benchmark] = {}
LOAD_BENCHMARKS: dict[str, LoadBenchmark] = {}


def benchmark(
    description: str,
    *,
    floor: str | None = None,
    target: Target | None = None,
    max_repeat: int | None = None,
    floor_params: Callable[[Population], dict[str, object]] | None = None,
) -> Callable[[Setup], Setup]:
    """Register a benchmark timed in process; `floor` is SQL with %(name)s parameters taken
    from `Population.floor_params` (and `floor_params(population)`); `max_repeat` caps the
    timed runs of a slow call."""

    def register(setup: Setup) -> Setup:
        BENCHMARKS[setup.__name__] = Benchmark(
            setup.__name__,
            description,
            setup,
            floor,
            target or Target(),
            max_repeat,
            floor_params,
        )
        return setup

    return register


def load_benchmark(
    description: str, *, target: Target | None = None
) -> Callable[[LoadSetup], LoadSetup]:
    """Register a benchmark driven by concurrent clients against the production server."""

    def register(setup: LoadSetup) -> LoadSetup:
        LOAD_BENCHMARKS[setup.__name__] = LoadBenchmark(
            setup.__name__, description, setup, target or Target()
        )
        return setup

    return register


def registry() -> tuple[dict[str, Benchmark], dict[str, LoadBenchmark]]:
    """Every registered benchmark; importing the module registers them."""
    import_module("cocm.bench.benchmarks")
    return BENCHMARKS, LOAD_BENCHMARKS


# ---------------------------------------------------------------------------------------------
# Helpers for writing benchmarks


class BenchmarkError(RuntimeError):
    """A benchmark did not get the answer it times: its figures would mean nothing."""


def load_population(username: str = "caremanager", biller: str = "billing") -> Population:
    """The demo care manager's caseload and its heaviest chart, from the seeded population."""
    care_manager = User.objects.get(username=username)
    billing_user = User.objects.get(username=biller)
    caseload = Episode.objects.filter(care_manager=care_manager).open()
    episode_ids = tuple(caseload.order_by("id").values_list("id", flat=True))
    if not episode_ids:
        raise BenchmarkError(f"{username} has no open episode: seed a population first.")
    heaviest = (
        caseload.annotate(history=Count("patient__episodes__status_changes"))
        .order_by("-history", "id")
        .values("id", "patient_id")
        .first()
    )
    assert heaviest is not None
    today = care_manager.organization.today()
    # The seeded history ends on the seed's as-of date (`cocm seed --as-of`, today by
    # default), which its latest contact shows; the month before is the last one to close.
    as_of = (
        Contact.objects.filter(
            episode__clinic__organization_id=care_manager.organization_id
        ).aggregate(last=Max("occurred_on"))["last"]
        or today
    )
    billing_month = date(as_of.year, as_of.month, 1) - timedelta(days=1)
    return Population(
        care_manager,
        episode_ids,
        heaviest["patient_id"],
        heaviest["id"],
        today,
        billing_user,
        billing_month.replace(day=1),
    )


def signed_in_client(user: User) -> Client:
    """A client signed in as the user, past the one-time code when the user's role needs
    one (organization admins): as if typed, with a confirmed authenticator of the
    benchmark's own."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cocm.accounts.middleware import must_use_two_factor

    client = Client()
    client.force_login(user)
    if must_use_two_factor(user):
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="benchmark", defaults={"confirmed": True}
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def get_ok(client: Client, path: str, headers: Mapping[str, str] | None = None) -> bytes:
    response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise BenchmarkError(f"GET {path} answered {response.status_code}, not 200.")
    return response.content


def session_cookie(user: User, secret_key: str) -> str:
    """A signed-in session cookie as a server with `secret_key` reads it: the session data and
    the password hash inside it are both signed with the secret key."""
    with override_settings(SECRET_KEY=secret_key):
        client = signed_in_client(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


# ---------------------------------------------------------------------------------------------
# Timing in process


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p95_ms: float
    runs: int

    @classmethod
    def of(cls, seconds: list[float]) -> "Timing":
        ordered = sorted(seconds)
        # Nearest rank: an observed value, defined for any number of runs.
        p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]
        return cls(statistics.median(ordered) * 1000, p95 * 1000, len(ordered))


def timed(call: Callable[[], object], repeat: int) -> Timing:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return Timing.of(seconds)


def floor_query(sql: str, params: Mapping[str, object]) -> Callable[[], list[tuple[Any, ...]]]:
    def run() -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


@dataclass(frozen=True)
class Figures:
    benchmark: Benchmark
    product: Timing
    floor: Timing | None
    floor_rows: int | None
    queries: int
    peak_allocated_kib: float  # Python allocations during one call (tracemalloc)

    @property
    def ratio(self) -> float | None:
        if self.floor is None:
            return None
        return self.product.median_ms / max(self.floor.median_ms, 1e-6)

    def misses(self) -> list[str]:
        target, misses = self.benchmark.target, []
        if target.p95_ms is not None and self.product.p95_ms >= target.p95_ms:
            misses.append(f"p95 {self.product.p95_ms:.1f} ms ≥ {target.p95_ms:g} ms")
        if target.floor_ratio is not None and (self.ratio or 0) > target.floor_ratio:
            misses.append(f"{self.ratio:.1f}× floor > {target.floor_ratio:g}×")
        allocated_mb = self.peak_allocated_kib / 1024
        if target.allocated_mb is not None and allocated_mb >= target.allocated_mb:
            misses.append(f"{allocated_mb:.1f} MB allocated ≥ {target.allocated_mb:g} MB")
        return misses


def run_benchmark(
    bench: Benchmark, population: Population, *, repeat: int, warmup: int = 3
) -> Figures:
    repeat = bench.runs(repeat)
    if bench.max_repeat:
        warmup = min(warmup, 1)
    call = bench.setup(population)
    # The first call also pays for lazy imports and template compilation; it is not timed.
    # Each request empties the query log when it starts, so the log is emptied before and
    # counted at once, before the next request.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        call()
    queries = len(captured)
    for _ in range(warmup):
        call()
    tracemalloc.start()
    try:
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    product = timed(call, repeat)
    floor = floor_rows = None
    if bench.floor_sql:
        params = population.floor_params
        if bench.floor_params is not None:
            params = {**params, **bench.floor_params(population)}
        floor_call = floor_query(bench.floor_sql, params)
        floor_rows = len(floor_call())
        for _ in range(warmup):
            floor_call()
        floor = timed(floor_call, repeat)
    return Figures(bench, product, floor, floor_rows, queries, peak / 1024)


# ---------------------------------------------------------------------------------------------
# Load against the production server


@dataclass(frozen=True)
class Server:
    pid: int  # the gunicorn master: `cocm serve` replaces itself with gunicorn
    port: int
    secret_key: str
    workers: int


def database_url(database: Mapping[str, Any]) -> str:
    """DATABASE_URL for the database this process uses (the test database under pytest)."""
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    credentials = quote(database.get("USER") or "", safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    port = f":{database['PORT']}" if database.get("PORT") else ""
    name = quote(str(database["NAME"]), safe="")
    return f"postgresql://{credentials}@{database.get('HOST') or ''}{port}/{name}"


def cocm_command() -> list[str]:
    script = Path(sys.executable).with_name("cocm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cocm.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# A reverse proxy terminates TLS in production and says so in this header (settings'
# SECURE_PROXY_SSL_HEADER); without it every request would be redirected to https.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def new_secret_key() -> str:
    return secrets.token_urlsafe(45)  # 60 characters, as production mode requires 50 or more


@contextmanager
def served_database_url(directory: Path) -> Iterator[str]:
    """DATABASE_URL for the server: this process's database, or a file snapshot of it when it
    lives in memory (pytest's SQLite test database), which no other process can open."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        snapshot = directory / "snapshot.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(snapshot)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        yield f"sqlite:///{snapshot}"
    else:
        yield database_url(connection.settings_dict)


@contextmanager
def production_server(workers: int = 2, secret_key: str | None = None) -> Iterator[Server]:
    """`cocm serve --production` on a free loopback port, with a random secret key."""
    port, secret_key = free_port(), secret_key or new_secret_key()
    with (
        tempfile.TemporaryDirectory(prefix="cocm-bench-") as directory,
        served_database_url(Path(directory)) as url,
        tempfile.TemporaryFile() as log,
    ):
        env = {
            **os.environ,
            "COCM_MODE": "production",
            "COCM_SECRET_KEY": secret_key,
            "COCM_ALLOWED_HOSTS": "127.0.0.1",
            "COCM_STATIC_ROOT": str(Path(directory) / "static"),
            "DATABASE_URL": url,
        }
        env.pop("COCM_DEBUG", None)
        command = [*cocm_command(), "serve", "--production", "--bind", f"127.0.0.1:{port}"]
        process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
            [*command, "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_serving(process, port, log)
            yield Server(process.pid, port, secret_key, workers)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_serving(process: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            raise BenchmarkError(f"cocm serve --production exited ({process.returncode}):\n{tail}")
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            probe.request("GET", "/login/", headers=PROXY_HEADERS)
            probe.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            probe.close()
    raise BenchmarkError("cocm serve --production did not answer within 120 s.")


@dataclass(frozen=True)
class WorkerMemory:
    peak_mb: float  # VmHWM: the resident high-water mark since the worker started
    resident_mb: float  # VmRSS when read


def worker_memory(master_pid: int) -> list[WorkerMemory]:
    """The memory of each gunicorn worker: the children of the master process (Linux /proc)."""
    workers = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:  # the process ended while we looked
            continue
        fields = dict(line.split(":", 1) for line in lines if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid) and "VmHWM" in fields:
            workers.append(
                WorkerMemory(
                    int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024
                )
            )
    return workers


@dataclass(frozen=True)
class Drive:
    """What a load driver measured."""

    driver: str
    seconds: float
    requests: int
    errors: int  # answers other than 200, socket errors and time-outs
    latency_p50_ms: float
    latency_p99_ms: float
    last_error: str = ""  # e.g. "HTTP 500", to start looking when errors is not 0


# Lua for wrk: random path, headers on every request, and any answer but 200 is an error
# (wrk itself counts 3xx as success, which would hide a redirect to the login page).
WRK_SCRIPT = """
local paths = __PATHS__
__HEADERS__
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0; bad_status = 0 end
function request() return wrk.format("GET", paths[math.random(#paths)]) end
function response(status, headers, body)
  if status ~= 200 then not_ok = not_ok + 1; bad_status = status end
end
function done(summary, latency, requests)
  local not_ok, bad_status = 0, 0
  for _, thread in ipairs(threads) do
    not_ok = not_ok + thread:get("not_ok")
    if thread:get("bad_status") ~= 0 then bad_status = thread:get("bad_status") end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH {\\"requests\\": %d, \\"duration_us\\": %d, \\"not_ok\\": %d, " ..
    "\\"socket_errors\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d, \\"bad_status\\": %d}\\n",
    summary.requests, summary.duration, not_ok, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), bad_status))
end
"""


def wrk_drive(port: int, request: LoadRequest, *, clients: int, seconds: float) -> Drive:
    headers = {**PROXY_HEADERS, **request.headers}
    # JSON strings of ASCII text are valid Lua string literals.
    script = WRK_SCRIPT.replace(
        "__PATHS__", "{" + ", ".join(json.dumps(path) for path in request.paths) + "}"
    ).replace(
        "__HEADERS__",
        "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()),
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        command = [
            "wrk",
            f"--threads={min(2, clients)}",
            f"--connections={clients}",
            f"--duration={max(1, round(seconds))}s",
            # wrk's default 2 s time-out counts a queued request as an error; 10 s is nearer
            # what a browser or a reverse proxy waits. Latency is reported anyway.
            "--timeout=10s",
            f"--script={lua.name}",
            f"http://127.0.0.1:{port}",
        ]
        output = subprocess.run(  # noqa: S603 - wrk with fixed arguments, loopback only
            command, capture_output=True, text=True, check=True
        ).stdout
    match = re.search(r"^BENCH (\{.*\})$", output, re.MULTILINE)
    if match is None:
        raise BenchmarkError(f"wrk printed no figures:\n{output}")
    figures = json.loads(match.group(1))
    return Drive(
        "wrk",
        figures["duration_us"] / 1e6,
        figures["requests"],
        figures["not_ok"] + figures["socket_errors"],
        figures["p50_us"] / 1000,
        figures["p99_us"] / 1000,
        f"HTTP {figures['bad_status']}"
        if figures["bad_status"]
        else ("socket error or time-out" if figures["socket_errors"] else ""),
    )


def python_drive(port: int, request: LoadRequest, *, clients: int, seconds: float) -> Drive:
    """A stand-in for wrk where it is not installed; slower, since the clients share the GIL."""
    headers = {**PROXY_HEADERS, **request.headers}
    latencies: list[float] = []
    errors, last_error = [0], [""]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(offset: int) -> None:
        # HTTPConnection reopens by itself after a response that closes the connection.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        number = offset
        while time.perf_counter() < deadline:
            path = request.paths[number % len(request.paths)]
            number += 1
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                error = "" if response.status == 200 else f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exception:
                conn.close()
                error = type(exception).__name__
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if error:
                    errors[0] += 1
                    last_error[0] = error
        conn.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    p99 = ordered[math.ceil(0.99 * len(ordered)) - 1]
    median = statistics.median(ordered)
    return Drive(
        "python", elapsed, len(latencies), errors[0], median * 1000, p99 * 1000, last_error[0]
    )


@dataclass(frozen=True)
class LoadFigures:
    benchmark: LoadBenchmark
    drive: Drive
    clients: int
    workers: list[WorkerMemory]

    @property
    def requests_per_second(self) -> float:
        return self.drive.requests / max(self.drive.seconds, 1e-6)

    @property
    def worker_peak_mb(self) -> float:
        return max((worker.peak_mb for worker in self.workers), default=0.0)

    def misses(self) -> list[str]:
        target, misses = self.benchmark.target, []
        rps = self.requests_per_second
        if target.requests_per_second is not None and rps < target.requests_per_second:
            misses.append(f"{rps:.0f} req/s < {target.requests_per_second:g}")
        if target.errors is not None and self.drive.errors > target.errors:
            misses.append(f"{self.drive.errors} errors (last: {self.drive.last_error})")
        if target.worker_mb is not None and self.worker_peak_mb >= target.worker_mb:
            misses.append(f"worker peak {self.worker_peak_mb:.0f} MB ≥ {target.worker_mb:g} MB")
        return misses


Driver = Callable[..., Drive]


def default_driver() -> Driver:
    return wrk_drive if shutil.which("wrk") else python_drive


def run_load_benchmark(
    bench: LoadBenchmark,
    population: Population,
    *,
    workers: int,
    clients: int,
    seconds: float,
    driver: Driver | None = None,
) -> LoadFigures:
    """Start a fresh production server, so each worker's peak memory is this benchmark's."""
    drive = driver or default_driver()
    secret_key = new_secret_key()
    # Set up before the server starts: it may serve a snapshot of the database.
    request = bench.setup(population, secret_key)
    with production_server(workers, secret_key) as server:
        # A short warm-up loads each worker's code and connections; its figures are dropped.
        drive(server.port, request, clients=min(clients, 2 * workers), seconds=1)
        measured = drive(server.port, request, clients=clients, seconds=seconds)
        memory = worker_memory(server.pid)
    return LoadFigures(bench, measured, clients, memory)


# ---------------------------------------------------------------------------------------------
# Machine, dataset and the markdown report


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        meminfo = Path("/proc/meminfo").read_text()
    except OSError:
        pass
    else:
        if found := re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE):
            cpu = found.group(1).strip()
        if found := re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE):
            memory = f"{int(found.group(1)) / 1024**2:.1f} GiB"
    return {
        "CPU": f"{cpu}, {os.cpu_count()} logical cores",
        "Memory": memory or "unknown",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "Database": database_version(),
        # Another busy process on the machine shows here, and in the figures.
        "Load average before the run (1/5/15 min)": load_average(),
    }


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def database_version() -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            return str(cursor.fetchone()[0]).split(" on ")[0]
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]} (WAL)"
    return connection.vendor


def database_size_mb() -> float | None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0]) / 1024**2
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and Path(name).exists():
        return Path(name).stat().st_size / 1024**2
    return None


def dataset(population: Population) -> dict[str, str]:
    patients = Patient.objects.filter(organization__name=DEMO_ORGANIZATION)
    episodes = Episode.objects.filter(patient__organization__name=DEMO_ORGANIZATION)
    # Every table of the product's apps, so that rows seeded by later capabilities show here.
    rows = [
        f"{model._meta.model_name} {count:,}"
        for model in apps.get_models()
        if model.__module__.startswith("cocm.") and model._meta.app_label != "bench"
        if (count := model._default_manager.count())
    ]
    size = database_size_mb()
    return {
        "Patients": f"{patients.count():,}",
        "Episodes": f"{episodes.count():,} ({episodes.open().count():,} open)",
        "Rows per table": ", ".join(rows),
        "Benchmarked care manager": (
            f"{population.care_manager.username}, {len(population.episode_ids)} open episodes"
        ),
        "Benchmarked chart": f"patient {population.patient_id} (episode {population.episode_id})",
        "Database size": f"{size:,.0f} MB" if size is not None else "unknown",
    }


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def verdict(misses: list[str]) -> str:
    return "met" if not misses else "**missed**: " + "; ".join(misses)


def markdown_section(
    title: str,
    *,
    machine_facts: Mapping[str, str],
    dataset_facts: Mapping[str, str],
    figures: list[Figures],
    load: list[LoadFigures],
    repeat: int,
) -> str:
    lines = [f"## {title}", "", f"Run on {date.today().isoformat()}.", ""]
    lines += [f"- {key}: {value}" for key, value in {**machine_facts, **dataset_facts}.items()]
    lines += [f"- Bench process peak RSS: {peak_rss_mb():.0f} MB", ""]
    if figures:
        lines += [
            f"### In process ({repeat} timed runs after a warm-up, unless the runs column says"
            " fewer; times in ms)",
            "",
            "| benchmark | runs | median | p95 | floor median | floor p95 | floor rows "
            "| product/floor | queries | peak alloc | target | verdict |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
        ]
        for each in figures:
            floor = each.floor
            lines.append(
                f"| {each.benchmark.name} — {each.benchmark.description} "
                f"| {each.product.runs} "
                f"| {each.product.median_ms:.1f} | {each.product.p95_ms:.1f} "
                f"| {f'{floor.median_ms:.2f}' if floor else '—'} "
                f"| {f'{floor.p95_ms:.2f}' if floor else '—'} "
                f"| {each.floor_rows if each.floor_rows is not None else '—'} "
                f"| {f'{each.ratio:.1f}×' if each.ratio is not None else '—'} "
                f"| {each.queries} | {each.peak_allocated_kib:,.0f} KiB "
                f"| {each.benchmark.target} | {verdict(each.misses())} |"
            )
        lines.append("")
    if load:
        lines += [
            "### Under load (production server: gunicorn on 127.0.0.1)",
            "",
            "| benchmark | driver | clients | workers | seconds | requests | req/s | errors "
            "| latency p50 / p99 ms | worker peak RSS (VmHWM) | target | verdict |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
        ]
        for each in load:
            run = each.drive
            memory = ", ".join(f"{worker.peak_mb:.0f}" for worker in each.workers) or "—"
            lines.append(
                f"| {each.benchmark.name} — {each.benchmark.description} | {run.driver} "
                f"| {each.clients} | {len(each.workers)} | {run.seconds:.1f} | {run.requests:,} "
                f"| {each.requests_per_second:.0f} | {run.errors} "
                f"| {run.latency_p50_ms:.0f} / {run.latency_p99_ms:.0f} | {memory} MB "
                f"| {each.benchmark.target} | {verdict(each.misses())} |"
            )
        lines.append("")
    return "\n".join(lines)


REPORT_TITLE = (
    "# Benchmarks\n\n"
    "Written by `make bench` (`cocm bench`); each database's section is replaced on every run,\n"
    "the rest of this file is kept. Benchmarks are in `cocm/bench/benchmarks.py`.\n"
)


def section_markers(key: str) -> tuple[str, str]:
    return f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"


def previous_section(path: Path, key: str) -> str:
    start, end = section_markers(key)
    text = path.read_text() if path.exists() else ""
    found = re.search(re.escape(start) + r"\n(.*?)" + re.escape(end), text, re.DOTALL)
    return found.group(1) if found else ""


def write_section(path: Path, key: str, section: str, *, keep_rest: bool) -> None:
    """Write `section` between this key's markers; with `keep_rest`, replace only that section
    (or add it at the end) and keep everything else, such as the hand-written analysis."""
    start, end = section_markers(key)
    block = f"{start}\n{section.rstrip()}\n{end}"
    text = path.read_text() if keep_rest and path.exists() else REPORT_TITLE
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)

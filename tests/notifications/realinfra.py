"""Helpers for tests that run the notification outbox on real infrastructure.

- ``RedisServer``: a private ``redis-server`` on a free port, no persistence, stopped and
  restarted at will (the outage tests), always shut down by its owner in ``finally``.
- ``Worker``: ``celery -A groupbuy worker`` as a subprocess in its own process group,
  on the test's own PostgreSQL database and a given broker; stopped (SIGTERM) or killed
  (SIGKILL of the whole group) by the test.
- ``celery_publishing_to(url)``: points this process's Celery app at a real broker (no
  eager mode) for the duration of a ``with`` block, so ``on_commit`` and the sweeper
  publish to Redis exactly as in production.
- ``FileSmsBackend``: an SMS backend the worker process loads by its dotted path
  (``SMS_BACKEND=tests.notifications.realinfra.FileSmsBackend``). It appends one JSON line
  per event to ``$TEST_SMS_FILE``: ``started`` before the "provider call", then
  ``completed`` (or ``failed`` with ``TEST_SMS_FAIL=1``); ``TEST_SMS_DELAY`` seconds pass
  in between, so a test can kill a worker while a send is in flight.

This module is imported by the worker subprocess too: it must not need pytest at import.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from notifications.sms import BaseSmsBackend, SmsMessage, SmsSendError

BASE_DIR = Path(__file__).resolve().parent.parent.parent
REDIS_HOST = "127.0.0.1"
WORKER_READY_SECONDS = 30
FILE_SMS_BACKEND = "tests.notifications.realinfra.FileSmsBackend"

# Every variable settings.py reads (the same rule as tests/test_celery_config.py).
_ENV_READ = re.compile(r"""\benv(?:\.[a-z_]+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")


# --- The SMS backend the worker uses ---------------------------------------------------


def _append_line(path: str, record: dict) -> None:
    """One JSON line, written with a single O_APPEND write: whole even across processes."""
    data = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)  # in the kernel once written: a SIGKILL after this cannot lose it
    finally:
        os.close(fd)


class FileSmsBackend(BaseSmsBackend):
    """Records sends in ``$TEST_SMS_FILE`` so a test can see them from outside the worker."""

    def send(self, message: SmsMessage) -> str:
        path = os.environ["TEST_SMS_FILE"]
        base = {"key": message.idempotency_key, "phone": message.phone, "pid": os.getpid()}
        _append_line(path, {**base, "event": "started", "at": time.time()})
        delay = float(os.environ.get("TEST_SMS_DELAY") or 0)
        if delay:
            time.sleep(delay)
        if os.environ.get("TEST_SMS_FAIL") == "1":
            _append_line(path, {**base, "event": "failed", "at": time.time()})
            raise SmsSendError("test provider unavailable", retryable=True, code="TEST")
        _append_line(path, {**base, "event": "completed", "at": time.time()})
        return f"file-{message.idempotency_key}"


def sms_events(path: Path, event: str | None = None) -> list[dict]:
    """The backend's records, optionally only those of one event."""
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if event is None or r["event"] == event]


# --- Query counts -------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def notify_query_count(recipients, community) -> int:
    """Queries of one community announcement to ``recipients``, written then rolled back
    (nothing is queued: on_commit callbacks of a rolled-back block never run)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from notifications.services import notify

    with CaptureQueriesContext(connection) as queries:
        try:
            with transaction.atomic():
                notify(
                    recipients=recipients,
                    kind="community_announcement",
                    community=community,
                    context={"title": "Pickup moved", "body": "Gate 2 today."},
                )
                raise _Rollback
        except _Rollback:
            pass
    return len(queries)


# --- Waiting ----------------------------------------------------------------------------


def wait_for(
    predicate: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.1,
    message: str | Callable[[], str] = "condition",
):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"not within {timeout} s: {text}")
        time.sleep(interval)


# --- Processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((REDIS_HOST, 0))
        return sock.getsockname()[1]


def _stop_group(process: subprocess.Popen, *, timeout: float = 15) -> None:
    """SIGTERM the process group, then SIGKILL it if it does not go in time."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    # Whatever is left of the group (children of a prefork worker), and the leader.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(timeout=timeout)


def require_redis_server() -> str:
    """The redis-server binary, or a skip (a failure when REQUIRE_POSTGRES/REDIS=1)."""
    import pytest

    binary = shutil.which("redis-server")
    if binary is None:
        reason = "needs the redis-server binary"
        if "1" in (os.environ.get("REQUIRE_REDIS"), os.environ.get("REQUIRE_POSTGRES")):
            pytest.fail(f"{reason}; REQUIRE_REDIS=1 or REQUIRE_POSTGRES=1 forbids skipping")
        pytest.skip(reason)
    return binary


class RedisServer:
    """A private redis-server; ``stop()`` and ``start()`` again keep the same port."""

    def __init__(self, directory: Path | None = None, port: int | None = None):
        self.port = port or free_port()
        self._own_dir = directory is None
        self.dir = Path(directory or tempfile.mkdtemp(prefix="tuangou-redis-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://{REDIS_HOST}:{self.port}/{db}"

    def client(self, db: int = 0):
        """A client that answers at once: redis-py retries with back-off by default."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis(
            host=REDIS_HOST,
            port=self.port,
            db=db,
            socket_connect_timeout=1,
            retry=Retry(NoBackoff(), 0),
        )

    def ping(self) -> bool:
        import redis

        client = self.client()
        try:
            return bool(client.ping())
        except redis.exceptions.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> "RedisServer":
        assert self.process is None or self.process.poll() is not None, "already running"
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(self.port),
            "--bind",
            REDIS_HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.dir),
            "--daemonize",
            "no",
            "--logfile",
            str(self.dir / "redis.log"),
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            wait_for(
                lambda: self.process.poll() is not None or self.ping(),
                timeout=10,
                interval=0.05,
                message=f"redis-server on port {self.port} to answer",
            )
        except BaseException:
            self.stop()
            raise
        if self.process.poll() is not None:
            log_path = self.dir / "redis.log"
            log = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
            raise RuntimeError(f"redis-server on port {self.port} exited:\n{log}")
        return self

    def stop(self) -> None:
        """Stop the server at once (no save); the port stays this object's."""
        if self.process is not None:
            _stop_group(self.process, timeout=10)

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def clean_env(**overrides: str) -> dict[str, str]:
    """The caller's environment without anything settings.py reads, plus ``overrides``."""
    read_by_settings = set(_ENV_READ.findall((BASE_DIR / "groupbuy" / "settings.py").read_text()))
    env = {k: v for k, v in os.environ.items() if k not in read_by_settings}
    for name in ("TEST_SMS_FILE", "TEST_SMS_DELAY", "TEST_SMS_FAIL"):
        env.pop(name, None)
    env["DJANGO_SETTINGS_MODULE"] = "groupbuy.settings"
    env["PYTHONPATH"] = str(BASE_DIR)
    env.update(overrides)
    return env


def worker_database_url() -> str:
    """A URL for the database this test uses (the test database, e.g. test_tuangou_gw0)."""
    from django.db import connection

    params = connection.settings_dict
    assert connection.vendor == "postgresql", "a worker shares the database: PostgreSQL only"
    user = urllib.parse.quote(params.get("USER") or "", safe="")
    password = urllib.parse.quote(params.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    name = urllib.parse.quote(params["NAME"], safe="")
    return f"postgres://{auth}{host}:{port}/{name}"


class Worker:
    """``celery -A groupbuy worker`` on this test's database and ``broker_url``."""

    def __init__(
        self,
        *,
        broker_url: str,
        sms_file: Path,
        log_path: Path,
        pool: str = "solo",
        concurrency: int = 1,
        **env: str,
    ):
        self.name = f"tuangou-rw-{uuid.uuid4().hex[:10]}"
        self.log_path = log_path
        self.env = clean_env(
            DATABASE_URL=worker_database_url(),
            CONN_MAX_AGE="0",
            CELERY_BROKER_URL=broker_url,
            SMS_BACKEND=FILE_SMS_BACKEND,
            TEST_SMS_FILE=str(sms_file),
            **env,
        )
        self.command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "groupbuy",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "-l",
            "info",
            "-n",
            f"{self.name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        self.process: subprocess.Popen | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> "Worker":
        with self.log_path.open("a") as log_file:
            self.process = subprocess.Popen(
                self.command,
                cwd=BASE_DIR,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(
                lambda: self.process.poll() is not None or " ready." in self.log(),
                timeout=WORKER_READY_SECONDS,
                interval=0.1,
                message=lambda: f"worker ready; log:\n{self.log()[-4000:]}",
            )
        except BaseException:
            self.stop()
            raise
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited with {self.process.returncode}:\n{self.log()}")
        return self

    def assert_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"the worker exited with {self.process.returncode}:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash or an OOM kill would."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is not None:
            _stop_group(self.process)

    def __enter__(self) -> "Worker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- This process's Celery app ----------------------------------------------------------


def _reset_broker_pools(app) -> None:
    """Close and forget every broker connection of this process.

    kombu keeps its connection and producer pools in global registries keyed by the
    connection: closing one and leaving it registered would hand it out again, closed.
    """
    from kombu import pools

    pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextlib.contextmanager
def celery_publishing_to(broker_url: str) -> Iterator[None]:
    """Make this process publish tasks to ``broker_url`` instead of running them eagerly.

    Celery reads $CELERY_BROKER_URL before its configuration, so the variable is set too;
    the connection pools are dropped on the way in and out so nothing keeps the old broker.
    """
    from groupbuy.celery import app

    saved_env = os.environ.get("CELERY_BROKER_URL")
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    _reset_broker_pools(app)
    os.environ["CELERY_BROKER_URL"] = broker_url
    app.conf.broker_url = broker_url
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        _reset_broker_pools(app)
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        app.conf.update(saved)

"""The Celery app: configuration read from Django settings, task discovery, and one real
worker consuming a real Redis broker.

The worker test needs Redis at 127.0.0.1:6379 and skips without it, unless
REQUIRE_REDIS=1 or REQUIRE_POSTGRES=1 (CI) turns the skip into a failure. It uses broker
db 14 and cache db 13, a queue and worker name unique to the run, and recognises its own
task by id, so parallel runs (xdist, two checkouts) do not see each other's work.
"""

import json
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import environ
import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from groupbuy.celery import app
from groupbuy.tasks import BEAT_HEARTBEAT_KEY

BASE_DIR = Path(__file__).resolve().parent.parent
HEARTBEAT_TASK = "groupbuy.tasks.beat_heartbeat"

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379
BROKER_DB = 14
CACHE_DB = 13
WORKER_WAIT_SECONDS = 20

# Every variable settings.py reads (kept in step by tests/test_deploy.py).
ENV_READ = re.compile(r"""\benv(?:\.[a-z_]+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def clean_env(**overrides: str) -> dict[str, str]:
    """The caller's environment without anything settings.py reads, plus ``overrides``."""
    read_by_settings = set(ENV_READ.findall((BASE_DIR / "groupbuy" / "settings.py").read_text()))
    env = {k: v for k, v in os.environ.items() if k not in read_by_settings}
    env["DJANGO_SETTINGS_MODULE"] = "groupbuy.settings"
    env.update(overrides)
    return env


# --- Configuration, in this process ---------------------------------------------------


def test_celery_reads_namespaced_django_settings():
    assert app.main == "groupbuy"
    assert app.namespace == "CELERY"
    conf = app.conf
    assert conf.broker_url == (settings.CELERY_BROKER_URL or conf.broker_url)
    assert list(conf.accept_content) == ["json"]
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit and conf.task_time_limit
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.timezone == settings.TIME_ZONE


def test_beat_schedule_runs_the_heartbeat():
    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == HEARTBEAT_TASK]
    assert entries, app.conf.beat_schedule
    schedule = entries[0]["schedule"]
    seconds = schedule if isinstance(schedule, int | float) else schedule.run_every.total_seconds()
    assert 0 < seconds <= 300


def test_redis_cache_url_maps_to_djangos_redis_cache():
    config = environ.Env.cache_url_config(f"redis://{REDIS_HOST}:{REDIS_PORT}/{CACHE_DB}")
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["LOCATION"] == f"redis://{REDIS_HOST}:{REDIS_PORT}/{CACHE_DB}"


# --- Configuration per environment, in a fresh process ---------------------------------

PROBE = """
import json
import django

django.setup()
from groupbuy.celery import app

app.loader.import_default_modules()  # what a worker does at start-up: autodiscovery
print(json.dumps({"eager": app.conf.task_always_eager, "tasks": sorted(app.tasks)}))
"""


def _probe(tmp_path: Path, broker_url: str) -> dict:
    env = clean_env(
        CELERY_BROKER_URL=broker_url, DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}"
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_broker_means_eager_tasks(tmp_path):
    probe = _probe(tmp_path, broker_url="")
    assert probe["eager"] is True


def test_a_broker_means_queued_tasks_and_autodiscovery_finds_the_heartbeat(tmp_path):
    probe = _probe(tmp_path, broker_url=f"redis://{REDIS_HOST}:{REDIS_PORT}/{BROKER_DB}")
    assert probe["eager"] is False
    assert HEARTBEAT_TASK in probe["tasks"]


# --- A real worker on Redis -------------------------------------------------------------


def _require_redis():
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        reason = f"needs Redis at {REDIS_HOST}:{REDIS_PORT} ({error})"
        if "1" in (os.environ.get("REQUIRE_REDIS"), os.environ.get("REQUIRE_POSTGRES")):
            pytest.fail(f"{reason}; REQUIRE_REDIS=1 or REQUIRE_POSTGRES=1 forbids skipping")
        pytest.skip(reason)
    finally:
        client.close()


def _redis_cache(cache_url: str):
    config = environ.Env.cache_url_config(cache_url)
    backend = import_string(config.pop("BACKEND"))
    return backend(config.pop("LOCATION"), config)


def _forget_run(broker_url: str, run_id: str) -> None:
    """Drop the run's queue and kombu bindings from the broker db."""
    import redis

    client = redis.Redis.from_url(broker_url)
    try:
        for key in client.scan_iter(match=f"*{run_id}*"):
            client.delete(key)
        for key in client.scan_iter(match="_kombu.binding.*"):
            stale = [m for m in client.smembers(key) if run_id.encode() in m]
            if stale:
                client.srem(key, *stale)
    finally:
        client.close()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # SIGTERM: Celery's warm shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def test_real_worker_runs_the_heartbeat_from_a_redis_broker(tmp_path):
    _require_redis()
    from celery import Celery

    run_id = uuid.uuid4().hex[:12]
    queue = f"tuangou-test-{run_id}"
    broker_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{BROKER_DB}"
    cache_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{CACHE_DB}"
    log_path = tmp_path / "worker.log"
    env = clean_env(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        DATABASE_URL=f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        CELERY_BROKER_URL=broker_url,
        CACHE_URL=cache_url,
    )
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "groupbuy",
        "worker",
        "--pool=solo",
        "-l",
        "info",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    sender = Celery("tuangou-test-sender", broker=broker_url, set_as_current=False)
    sender.conf.update(task_serializer="json", accept_content=["json"])
    cache = _redis_cache(cache_url)

    def log() -> str:
        return log_path.read_text(errors="replace") if log_path.exists() else ""

    with log_path.open("w") as log_file:
        worker = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        sent_at = timezone.now() - timedelta(seconds=1)
        # An explicit connection: Celery lets $CELERY_BROKER_URL override `broker=`.
        with sender.connection_for_write(broker_url) as connection:
            result = sender.send_task(HEARTBEAT_TASK, queue=queue, connection=connection)
        done = f"Task {HEARTBEAT_TASK}[{result.id}] succeeded"
        deadline = time.monotonic() + WORKER_WAIT_SECONDS
        value = None
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(f"the worker exited with {worker.returncode}:\n{log()}")
            if done in log():
                value = cache.get(BEAT_HEARTBEAT_KEY)
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"no heartbeat within {WORKER_WAIT_SECONDS} s; worker log:\n{log()}")

        assert value, f"the task ran but {BEAT_HEARTBEAT_KEY!r} is not in {cache_url}"
        assert datetime.fromisoformat(value) >= sent_at, value
    finally:
        _stop(worker)
        sender.close()
        cache.close()
        _forget_run(broker_url, run_id)

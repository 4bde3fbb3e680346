"""Production readiness: `check --deploy`, the SECRET_KEY guard, the container files, the
documented environment and migrations in sync with the models.

Settings are module-level and read the environment once, so every check that needs a
particular environment runs `manage.py` in a subprocess. A local ``.env`` still fills in
variables these tests do not set (settings read it with ``overwrite=False``).
"""

import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
SETTINGS_FILE = BASE_DIR / "groupbuy" / "settings.py"
COMPOSE_FILE = BASE_DIR / "docker-compose.yml"
ENV_EXAMPLE = BASE_DIR / ".env.example"

# env("X"), env.str("X"), env.bool("X"), env.db("X"), env.cache("X"), env.email_url("X")...
ENV_READ = re.compile(r"""\benv(?:\.[a-z_]+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def settings_env_names() -> list[str]:
    names = ENV_READ.findall(SETTINGS_FILE.read_text(encoding="utf-8"))
    return sorted(set(names))


def clean_env(**overrides: str) -> dict[str, str]:
    """The caller's environment without anything settings.py reads, plus ``overrides``."""
    read_by_settings = set(settings_env_names())
    env = {k: v for k, v in os.environ.items() if k not in read_by_settings}
    env["DJANGO_SETTINGS_MODULE"] = "groupbuy.settings"
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = clean_env(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        **overrides,
    )
    # tests/conftest.py sets this for live-server tests; a deployment never does.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def test_settings_env_names_are_found():
    # Guards the regex the documentation tests below rely on.
    names = settings_env_names()
    for expected in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"):
        assert expected in names


# --- Django settings in production mode ---------------------------------------------


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output, output
    assert "System check identified no issues" in result.stdout, output


def _dotenv_sets(name: str) -> bool:
    dotenv = BASE_DIR / ".env"
    if not dotenv.exists():
        return False
    pattern = rf"^\s*(?:export\s+)?{re.escape(name)}\s*="
    return re.search(pattern, dotenv.read_text(encoding="utf-8"), re.MULTILINE) is not None


@pytest.mark.parametrize("how", ["unset", "empty"])
def test_settings_refuse_debug_off_without_secret_key(tmp_path, how):
    env = production_env(tmp_path)
    if how == "unset":
        if _dotenv_sets("SECRET_KEY"):
            pytest.skip("the local .env sets SECRET_KEY, so it cannot be unset here")
        del env["SECRET_KEY"]
    else:
        # An empty value also blocks .env from filling it in.
        env["SECRET_KEY"] = ""
    result = manage("check", env=env)
    assert result.returncode != 0, result.stdout
    assert "SECRET_KEY" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_debug_on_without_secret_key_still_starts(tmp_path):
    """The embedded mode (`make run`) needs no configuration at all."""
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'dev.sqlite3'}")
    if _dotenv_sets("DEBUG"):
        env["DEBUG"] = "1"
    result = manage("check", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_are_in_sync_with_models(tmp_path):
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
    result = manage("makemigrations", "--check", "--dry-run", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


# --- docker-compose.yml ---------------------------------------------------------------


def _check_jsonschema() -> str:
    venv_bin = str(Path(sys.executable).parent)
    found = shutil.which("check-jsonschema", path=venv_bin) or shutil.which("check-jsonschema")
    if found is None:
        pytest.fail("check-jsonschema is missing: install the dev extras (pip install -e '.[dev]')")
    return found


def test_compose_file_validates_against_compose_spec():
    result = subprocess.run(
        [_check_jsonschema(), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _load_compose() -> dict:
    # PyYAML is not installed; ruamel.yaml comes with check-jsonschema (a dev dependency).
    from ruamel.yaml import YAML

    with COMPOSE_FILE.open(encoding="utf-8") as fh:
        return YAML(typ="safe").load(fh)


def _argv(command) -> list[str]:
    """A service command as a list of words; `sh -c "..."` scripts are split too."""
    words = shlex.split(command) if isinstance(command, str) else [str(w) for w in command]
    if len(words) >= 3 and words[0] in {"sh", "bash", "/bin/sh"} and words[1] == "-c":
        return words[:2] + shlex.split(words[2])
    return words


def test_compose_describes_web_worker_beat_postgres_redis():
    services = _load_compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)

    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("postgres", "redis"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"

    for name in ("worker", "beat"):
        argv = _argv(services[name]["command"])
        assert argv[:3] == ["celery", "-A", "groupbuy"], argv
        assert name in argv, argv

    web = services["web"]
    assert web["build"] == "." or web["build"].get("context") == "."
    web_argv = _argv(web["command"])
    assert "migrate" in web_argv and "gunicorn" in web_argv
    assert web_argv.index("migrate") < web_argv.index("gunicorn"), web_argv
    assert "groupbuy.wsgi" in web_argv
    assert any(str(port).startswith("8000:8000") for port in web["ports"])

    for name in ("web", "worker", "beat"):
        service = services[name]
        for dependency in ("postgres", "redis"):
            assert service["depends_on"][dependency]["condition"] == "service_healthy"
        env = service["environment"]
        assert env["DATABASE_URL"] == "postgres://tuangou:tuangou@postgres:5432/tuangou"
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["CACHE_URL"] == "redis://redis:6379/1"
        assert str(env["DEBUG"]) == "0"
        assert "SECRET_KEY" in env and "ALLOWED_HOSTS" in env
        assert env["SECURE_SSL_REDIRECT"].endswith(":-0}"), "local compose serves plain HTTP"


def test_compose_environment_names_are_settings_variables():
    settings_names = set(settings_env_names())
    for name in ("web", "worker", "beat"):
        unknown = set(_load_compose()["services"][name]["environment"]) - settings_names
        assert not unknown, f"{name} sets variables settings.py never reads: {unknown}"


# --- Dockerfile and .dockerignore -------------------------------------------------------


def test_dockerfile_builds_a_non_root_gunicorn_image():
    text = (BASE_DIR / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    assert re.search(r"^RUN .*pip install \.", text, re.MULTILINE)
    assert "collectstatic --noinput" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    cmd = re.findall(r"^CMD\s+(.+)$", text, re.MULTILINE)[-1]
    assert '"gunicorn", "groupbuy.wsgi"' in cmd and "0.0.0.0:8000" in cmd


def test_dockerignore_keeps_local_state_out_of_the_image():
    entries = {
        line.strip().rstrip("/")
        for line in (BASE_DIR / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for required in (
        ".venv",
        ".git",
        ".env",
        "db.sqlite3",
        "artifacts",
        "media",
        "staticfiles",
        "node_modules",
    ):
        assert required in entries, required


# --- Documentation of the environment -------------------------------------------------


def test_env_example_documents_every_settings_variable():
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    missing = set(settings_env_names()) - documented
    assert not missing, f".env.example lacks {sorted(missing)}"
    extra = documented - set(settings_env_names())
    assert not extra, f".env.example documents variables settings.py never reads: {extra}"


def test_readme_documents_every_settings_variable():
    text = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    missing = [name for name in settings_env_names() if f"`{name}`" not in text]
    assert not missing, f"README.md configuration table lacks {missing}"

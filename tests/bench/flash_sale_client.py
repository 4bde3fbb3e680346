"""Simulated phones and a gunicorn server for the flash-sale benchmark.

- ``parse_forms(html)``: the forms of a page with every field a browser would send
  (inputs, checked boxes, selects, textareas) and their submit buttons, parsed generically
  so the benchmark does not depend on the pages' exact field names.
- ``Phone``: one member's browser: its own cookie jar and keep-alive HTTP connection, from
  its own loopback address (127.0.x.y), as members come from their own phones: allauth
  limits log-ins per client address.
- ``Gunicorn``: ``gunicorn groupbuy.wsgi`` as a subprocess in its own process group on a
  free port, stopped by its owner in ``finally``.
- ``bench_settings(directory, static_root)``: a settings module (written to a temporary
  directory) that is the production settings with ``STATIC_ROOT`` moved there, so the
  site runs with DEBUG off (manifest static files) without collecting into the project.
"""

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

from tests.notifications.realinfra import BASE_DIR, _stop_group, free_port, wait_for

HOST = "127.0.0.1"
SERVER_READY_SECONDS = 30
REQUEST_TIMEOUT_SECONDS = 60
_NOT_SENT = {"submit", "button", "image", "reset", "file"}


# --- Forms --------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    inputs: list[dict] = field(default_factory=list)  # attributes, plus "options" for selects
    buttons: list[dict] = field(default_factory=list)

    @property
    def names(self) -> set[str]:
        return {i["name"] for i in self.inputs if i.get("name")}

    def has_type(self, kind: str) -> bool:
        return any(i.get("type") == kind for i in self.inputs)

    def data(self, overrides: dict[str, str] | None = None, prefer=()) -> list[tuple[str, str]]:
        """What a browser submits, with ``overrides`` (name -> value, added when absent).

        A radio group or select without a choice takes the first value found in ``prefer``
        (e.g. "online", "pickup"), else its first option.
        """
        overrides = dict(overrides or {})
        pairs: list[tuple[str, str]] = []
        radios: dict[str, list[dict]] = {}
        for element in self.inputs:
            name = element.get("name")
            kind = element.get("type", "text")
            if not name or kind in _NOT_SENT or "disabled" in element:
                continue
            if kind == "radio":
                radios.setdefault(name, []).append(element)
                continue
            if name in overrides:
                continue
            if kind == "checkbox":
                if "checked" in element:
                    pairs.append((name, element.get("value", "on")))
            elif kind == "select":
                options = element["options"]
                chosen = [o for o in options if "selected" in o] or _preferred(options, prefer)
                pairs.extend((name, o.get("value", "")) for o in chosen[:1])
            else:
                pairs.append((name, element.get("value", "")))
        for name, group in radios.items():
            if name in overrides:
                continue
            chosen = [r for r in group if "checked" in r] or _preferred(group, prefer)
            pairs.extend((name, r.get("value", "on")) for r in chosen[:1])
        pairs.extend(overrides.items())
        return pairs

    def button(self, name: str, value: str) -> dict | None:
        for button in self.buttons:
            if button.get("name") == name and button.get("value") == value:
                return button
        return None


def _preferred(options: list[dict], prefer) -> list[dict]:
    for wanted in prefer:
        hits = [o for o in options if o.get("value") == wanted]
        if hits:
            return hits
    return [o for o in options if o.get("value", "") != ""] or options


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(
                action=attributes.get("action", ""),
                method=attributes.get("method", "get").lower(),
            )
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "input":
            attributes["type"] = attributes.get("type", "text").lower()
            if attributes["type"] in ("submit", "image"):
                self._form.buttons.append(attributes)
            else:
                self._form.inputs.append(attributes)
        elif tag == "button":
            if attributes.get("type", "submit").lower() == "submit":
                self._form.buttons.append(attributes)
        elif tag == "select":
            self._select = {**attributes, "type": "select", "options": []}
            self._form.inputs.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = dict(attributes)
            self._option.setdefault("_text", "")
            self._select["options"].append(self._option)
        elif tag == "textarea":
            self._textarea = {**attributes, "type": "textarea", "value": ""}
            self._form.inputs.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data
        elif self._option is not None:
            self._option["_text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "option" and self._option is not None:
            self._option.setdefault("value", self._option["_text"].strip())
            self._option = None
        elif tag == "textarea":
            self._textarea = None


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    for form in parser.forms:
        for select in (i for i in form.inputs if i["type"] == "select"):
            for option in select["options"]:
                option.setdefault("value", option["_text"].strip())
    return parser.forms


# --- A member's phone ---------------------------------------------------------------------


@dataclass
class Response:
    status: int
    path: str  # the path and query that was requested
    headers: http.client.HTTPMessage
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308)


class Phone:
    """A browser with its own cookies and connection, from its own loopback address."""

    def __init__(self, port: int, source_ip: str, *, language: str = "en"):
        self.port = port
        self.source_ip = source_ip
        self.language = language
        self.cookies: dict[str, str] = {}
        self._connection: http.client.HTTPConnection | None = None
        self._used = False

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                HOST, self.port, timeout=REQUEST_TIMEOUT_SECONDS, source_address=(self.source_ip, 0)
            )
            self._used = False
        return self._connection

    def request(self, method: str, url: str, data: list[tuple[str, str]] | None = None):
        path = _path_of(url)
        headers = {"Host": f"{HOST}:{self.port}", "Accept-Language": self.language}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            connection = self._connect()
            reused = self._used
            try:
                connection.request(method, path, body=body, headers=headers)
                answer = connection.getresponse()
                text = answer.read().decode(errors="replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: only a request that
                # cannot have been handled is sent again (never a POST).
                self.close()
                if attempt == 2 or not reused or method != "GET":
                    raise
        self._used = True
        if answer.will_close:
            self.close()
        self._keep_cookies(answer.headers)
        return Response(answer.status, path, answer.headers, text)

    def get(self, url: str) -> Response:
        return self.request("GET", url)

    def post(self, url: str, data: list[tuple[str, str]]) -> Response:
        return self.request("POST", url, data)

    def follow(self, response: Response, limit: int = 5) -> Response:
        """GET redirect targets until a page answers."""
        for _hop in range(limit):
            if not response.is_redirect:
                return response
            response = self.get(urllib.parse.urljoin(response.path, response.location))
        return response

    def submit(self, page: Response, form: Form, data: list[tuple[str, str]]) -> Response:
        action = urllib.parse.urljoin(page.path, form.action or page.path)
        if form.method == "post":
            return self.post(action, data)
        return self.get(f"{_path_of(action).split('?')[0]}?{urllib.parse.urlencode(data)}")

    def _keep_cookies(self, headers: http.client.HTTPMessage) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


def _path_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def source_address(n: int) -> str:
    """A distinct loopback address per simulated phone (127.0.1.1, 127.0.1.2, …)."""
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


# --- The server ---------------------------------------------------------------------------


def bench_settings(directory: Path, static_root: Path) -> str:
    """Write the settings module; returns its name (put ``directory`` on PYTHONPATH)."""
    name = "flash_sale_bench_settings"
    (directory / f"{name}.py").write_text(
        f"from groupbuy.settings import *  # noqa: F403\n\nSTATIC_ROOT = {str(static_root)!r}\n"
    )
    return name


def collectstatic(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
    )


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
        return True
    return False


def _cpu_seconds(wanted) -> float:
    """User and system CPU time of the live processes ``wanted(pgrp, cmdline)`` picks."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, pgrp, …
        if wanted(int(fields[2]), cmdline):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def group_cpu_seconds(pgid: int) -> float:
    """CPU time so far of the live processes of a process group."""
    return _cpu_seconds(lambda pgrp, cmdline: pgrp == pgid)


def database_cpu_seconds(name: str) -> float:
    """CPU time so far of the live PostgreSQL backends connected to database ``name``
    (a backend shows "postgres: <cluster>: <user> <database> <client> <state>")."""
    return _cpu_seconds(
        lambda pgrp, cmdline: cmdline.startswith("postgres:") and f" {name} " in cmdline
    )


class Gunicorn:
    """``gunicorn groupbuy.wsgi`` (gthread workers) on a free port."""

    def __init__(self, *, env: dict[str, str], log_path: Path, workers: int, threads: int):
        self.port = free_port()
        self.env = env
        self.log_path = log_path
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "groupbuy.wsgi",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--timeout",
            "60",
            "--keep-alive",
            "30",
            "--backlog",
            "2048",
            "--error-logfile",
            "-",
        ]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> "Gunicorn":
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
                lambda: self.process.poll() is not None or _answers(self.port),
                timeout=SERVER_READY_SECONDS,
                interval=0.1,
                message=lambda: f"gunicorn to listen; log:\n{self.log()[-4000:]}",
            )
            self.assert_alive()
            # Every worker imports the site on its first request: warm them all up.
            deadline = time.monotonic() + SERVER_READY_SECONDS
            phones = [Phone(self.port, HOST) for _ in range(8)]
            for phone in phones:
                while phone.get("/").status >= 500 and time.monotonic() < deadline:
                    time.sleep(0.2)
                phone.close()
        except BaseException:
            self.stop()
            raise
        return self

    def cpu_seconds(self) -> float:
        """CPU time used so far by the master and its workers (its process group)."""
        return group_cpu_seconds(self.process.pid) if self.process is not None else 0.0

    def assert_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None:
            _stop_group(self.process)

    def __enter__(self) -> "Gunicorn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

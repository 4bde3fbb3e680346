"""Local stand-ins for the outside services notifications talk to, for any test to reuse.

Each fake is a context manager running an ``http.server`` on 127.0.0.1 (port 0) in a
daemon thread; leaving the ``with`` block shuts it down. ``.url`` is what the code under
test is pointed at.

    with FakeAliyunSms("secret") as aliyun:
        settings.ALIYUN_SMS_ENDPOINT = aliyun.url
        ...
        assert aliyun.messages[0].template_code == "SMS_1"

The Aliyun fake checks signatures with its own implementation of Aliyun's documented
algorithm (not the one in notifications.sms), so a mistake in the production code
cannot hide behind the same mistake here.
"""

import base64
import hashlib
import hmac
import itertools
import json
import socket
import threading
import urllib.parse
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["AcceptedSms", "FakeAliyunSms", "FakeWeChatRobot", "closed_port_url"]


def closed_port_url(path: str = "/") -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting fails at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


@dataclass(frozen=True)
class _Failure:
    kind: str  # "http", "code", "drop" or "stall"
    status: int = 500
    code: str = ""
    message: str = ""
    seconds: float = 0.0
    errcode: int = 0


class _FakeServer:
    """The thread and server plumbing shared by the fakes."""

    path = "/"

    def __init__(self):
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._failures: deque[_Failure] = deque()

    # Lifecycle

    def __enter__(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._dispatch(self, "GET")

            def do_POST(self):
                fake._dispatch(self, "POST")

            def log_message(self, format, *args):  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._closing.set()  # releases stalled handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return False

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}{self.path}"

    # Scripted failures

    def fail_next(self, count: int = 1, *, status: int = 500) -> None:
        """The next ``count`` requests get an HTTP ``status`` error."""
        self._queue(count, _Failure("http", status=status))

    def drop_next(self, count: int = 1) -> None:
        """The next ``count`` connections are closed without an answer."""
        self._queue(count, _Failure("drop"))

    def stall_next(self, count: int = 1, *, seconds: float = 2.0) -> None:
        """The next ``count`` requests wait ``seconds`` (or until exit) before answering."""
        self._queue(count, _Failure("stall", seconds=seconds))

    def _queue(self, count: int, failure: _Failure) -> None:
        with self._lock:
            self._failures.extend([failure] * count)

    def _next_failure(self) -> _Failure | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    # Request handling

    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        request = self.record(handler, method)
        failure = self._next_failure()
        if failure is not None and failure.kind == "drop":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if failure is not None and failure.kind == "stall":
            self._closing.wait(failure.seconds)
            failure = None
        if failure is not None and failure.kind == "http":
            self._reply(handler, failure.status, {"message": "fake server error"})
            return
        status, payload = self.handle(request, failure)
        self._reply(handler, status, payload)

    def record(self, handler: BaseHTTPRequestHandler, method: str) -> dict:
        """Read and remember one request (failed ones included); return what handle needs."""
        raise NotImplementedError

    def handle(self, request: dict, failure: _Failure | None) -> tuple[int, dict]:
        raise NotImplementedError

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json;charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)


# --- Aliyun Dysmsapi --------------------------------------------------------------------


def _aliyun_percent_encode(value: str) -> str:
    # Aliyun's documented recipe: form-encode in UTF-8, then '+' -> %20, '*' -> %2A,
    # %7E -> '~'.
    return (
        urllib.parse.quote_plus(value, safe="", encoding="utf-8")
        .replace("+", "%20")
        .replace("*", "%2A")
        .replace("%7E", "~")
    )


def _aliyun_expected_signature(params: dict[str, str], secret: str, method: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(
        _aliyun_percent_encode(k) + "=" + _aliyun_percent_encode(v) for k, v in pairs
    )
    to_sign = method + "&" + _aliyun_percent_encode("/") + "&" + _aliyun_percent_encode(canonical)
    mac = hmac.new((secret + "&").encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


@dataclass(frozen=True)
class AcceptedSms:
    phone: str
    sign_name: str
    template_code: str
    params: dict = field(hash=False)
    out_id: str
    biz_id: str
    query: dict = field(hash=False, repr=False)


class FakeAliyunSms(_FakeServer):
    """Dysmsapi ``SendSms`` that checks each request the way Aliyun does.

    Rejects (HTTP 400) a wrong signature with ``SignatureDoesNotMatch``, an unknown
    AccessKeyId, a reused SignatureNonce, a missing or stale Timestamp, and a wrong
    Action/Version/SignatureMethod/SignatureVersion. Accepted messages land in
    ``.messages``; every request's decoded query is in ``.requests``.
    """

    REQUIRED = (
        "AccessKeyId",
        "Action",
        "Format",
        "PhoneNumbers",
        "SignName",
        "Signature",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "TemplateCode",
        "Timestamp",
        "Version",
    )

    def __init__(self, secret: str, *, access_key_id: str | None = None):
        super().__init__()
        self.secret = secret
        self.access_key_id = access_key_id
        self.requests: list[dict[str, str]] = []
        self.messages: list[AcceptedSms] = []
        self._nonces: set[str] = set()
        self._biz_ids = itertools.count(900_000_000_000_000_001)

    def fail_next(
        self, count: int = 1, *, status: int = 500, code: str = "", message: str = ""
    ) -> None:
        """The next ``count`` requests fail: with HTTP ``status`` (default 500) or, given
        ``code``, with that business error Code (HTTP 200 unless ``status`` says otherwise).
        Business errors are answered after the signature check, as Aliyun does."""
        if code:
            self._queue(
                count,
                _Failure(
                    "code",
                    status=200 if status == 500 else status,
                    code=code,
                    message=message or code,
                ),
            )
        else:
            super().fail_next(count, status=status)

    @staticmethod
    def _error(status: int, code: str, message: str) -> tuple[int, dict]:
        return status, {"Code": code, "Message": message, "RequestId": str(uuid.uuid4())}

    def record(self, handler, method):
        parts = urllib.parse.urlsplit(handler.path)
        pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        params = dict(pairs)
        with self._lock:
            self.requests.append(params)
        return {"method": method, "path": parts.path, "pairs": pairs, "params": params}

    def handle(self, request, failure):
        method, pairs, params = request["method"], request["pairs"], request["params"]
        if request["path"] != "/":
            return self._error(404, "InvalidAction.NotFound", f"no such path {request['path']}")
        if len(params) != len(pairs):
            return self._error(400, "InvalidParameter", "a parameter is repeated")
        missing = [name for name in self.REQUIRED if not params.get(name)]
        if missing:
            return self._error(400, "MissingParameter", f"missing {', '.join(missing)}")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return self._error(400, "InvalidParameter", "unsupported signature method")
        if self.access_key_id is not None and params["AccessKeyId"] != self.access_key_id:
            return self._error(
                404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        expected = _aliyun_expected_signature(params, self.secret, method)
        if not hmac.compare_digest(expected, params["Signature"]):
            return self._error(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            )
        try:
            stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return self._error(400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.")
        if abs(datetime.now(UTC) - stamp) > timedelta(minutes=15):
            return self._error(400, "InvalidTimeStamp.Expired", "Specified time stamp is expired.")
        with self._lock:
            if params["SignatureNonce"] in self._nonces:
                return self._error(
                    400, "SignatureNonceUsed", "Specified signature nonce was used already."
                )
            self._nonces.add(params["SignatureNonce"])
        if params["Action"] != "SendSms":
            return self._error(400, "InvalidAction.NotFound", "Specified api is not found.")
        if params["Version"] != "2017-05-25":
            return self._error(400, "InvalidVersion", "Specified parameter Version is not valid.")
        if failure is not None and failure.kind == "code":
            return self._error(failure.status, failure.code, failure.message)
        if not params["PhoneNumbers"].isdigit():
            return 200, {
                "Code": "isv.MOBILE_NUMBER_ILLEGAL",
                "Message": "invalid mobile number",
                "RequestId": str(uuid.uuid4()),
            }
        try:
            template_params = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            template_params = None
        if not isinstance(template_params, dict):
            return 200, {
                "Code": "isv.INVALID_JSON_PARAM",
                "Message": "JSON参数不合法,只接受字符串值",
                "RequestId": str(uuid.uuid4()),
            }
        biz_id = f"{next(self._biz_ids)}^0"
        accepted = AcceptedSms(
            phone=params["PhoneNumbers"],
            sign_name=params["SignName"],
            template_code=params["TemplateCode"],
            params=template_params,
            out_id=params.get("OutId", ""),
            biz_id=biz_id,
            query=params,
        )
        with self._lock:
            self.messages.append(accepted)
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": biz_id,
            "RequestId": str(uuid.uuid4()),
        }


# --- WeChat Work group robot ------------------------------------------------------------


class FakeWeChatRobot(_FakeServer):
    """A group robot webhook. ``.url`` includes a key; ``.posts`` holds the JSON bodies
    received, ``.content_types`` their Content-Type headers.

    Like the real robot it answers errcode 93000 without a key, 40058 for markdown over
    4096 bytes, 40008 for an unknown msgtype; ``respond_next`` scripts other errcodes.
    """

    path = "/cgi-bin/webhook/send?key=fake-robot-key"

    def __init__(self):
        super().__init__()
        self.posts: list[dict] = []
        self.content_types: list[str] = []

    def respond_next(self, errcode: int, errmsg: str = "", *, count: int = 1) -> None:
        """The next ``count`` posts get this errcode (HTTP 200)."""
        self._queue(count, _Failure("code", status=200, errcode=errcode, message=errmsg))

    def record(self, handler, method):
        parts = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        if body is not None:
            with self._lock:
                self.posts.append(body)
                self.content_types.append(handler.headers.get("Content-Type", ""))
        return {"method": method, "path": parts.path, "query": parts.query, "body": body}

    def handle(self, request, failure):
        body = request["body"]
        if request["method"] != "POST" or request["path"] != "/cgi-bin/webhook/send":
            return 404, {"errcode": 404, "errmsg": "not found"}
        if body is None:
            return 200, {"errcode": 40059, "errmsg": "invalid json"}
        if not dict(urllib.parse.parse_qsl(request["query"])).get("key"):
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        if failure is not None and failure.kind == "code":
            return 200, {"errcode": failure.errcode, "errmsg": failure.message or "error"}
        if body.get("msgtype") != "markdown" or not isinstance(body.get("markdown"), dict):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        content = body["markdown"].get("content", "")
        if len(content.encode("utf-8")) > 4096:
            return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        return 200, {"errcode": 0, "errmsg": "ok"}

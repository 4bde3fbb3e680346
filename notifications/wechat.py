"""WeChat Work group robot (企业微信群机器人): a community posts notices to its group chat.

A leader pastes the robot's webhook URL into the community settings;
:func:`validate_webhook_url` keeps it to the official endpoint so the server never posts
to arbitrary hosts. :func:`robot_post` sends one markdown message and raises
:class:`WeChatRobotError` (with ``retryable``) when it cannot.
"""

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DEFAULT_ALLOWED_PREFIXES = ["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="]
# The robot rejects markdown content longer than 4096 bytes of UTF-8 (errcode 40058).
MARKDOWN_MAX_BYTES = 4096
# errcode values worth another try: -1 system busy, 45009 the robot's rate limit
# (20 messages a minute).
RETRYABLE_ERRCODES = frozenset({-1, 45009})
ELLIPSIS = "…"


class WeChatRobotError(Exception):
    """A robot message could not be posted. ``retryable`` says whether to try again later."""

    def __init__(self, message: str, *, retryable: bool, errcode: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.errcode = errcode


def validate_webhook_url(url: str) -> None:
    """Raise ValidationError unless ``url`` is an allowed robot webhook with a key."""
    prefixes = getattr(settings, "WECHAT_ROBOT_ALLOWED_PREFIXES", None) or DEFAULT_ALLOWED_PREFIXES
    url = url or ""
    if not any(char.isspace() for char in url):
        for prefix in prefixes:
            if url.startswith(prefix):
                key = url[len(prefix) :].split("&", 1)[0].split("#", 1)[0]
                if key:
                    return
                break
    raise ValidationError(
        _(
            "Enter the webhook address of a WeChat Work group robot, "
            "e.g. https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
        ),
        code="invalid_webhook",
    )


def _truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` that is at most ``max_bytes`` of UTF-8."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max(max_bytes, 0)].decode("utf-8", errors="ignore")


def markdown_content(*, title: str, body: str, link: str = "") -> str:
    """``**title**``, the body, then the link; at most 4096 bytes, the body giving way first."""
    head = f"**{title}**\n"
    tail = f"\n[{link}]({link})" if link else ""
    content = f"{head}{body}{tail}"
    if len(content.encode("utf-8")) <= MARKDOWN_MAX_BYTES:
        return content
    room = MARKDOWN_MAX_BYTES - len((head + tail + ELLIPSIS).encode("utf-8"))
    if room >= 0:
        return f"{head}{_truncate_utf8(body, room)}{ELLIPSIS}{tail}"
    # Title and link alone are too long: cut the whole thing.
    room = MARKDOWN_MAX_BYTES - len(ELLIPSIS.encode("utf-8"))
    return _truncate_utf8(content, room) + ELLIPSIS


def robot_post(*, webhook_url: str, title: str, body: str, link: str = "") -> str:
    """Post one markdown message to a group robot; return a message id for the log."""
    payload = {
        "msgtype": "markdown",
        "markdown": {"content": markdown_content(title=title, body=body, link=link)},
    }
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    timeout = float(getattr(settings, "WECHAT_ROBOT_HTTP_TIMEOUT", 10))
    where = urllib.parse.urlsplit(webhook_url).netloc  # never log the key
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise WeChatRobotError(
            f"WeChat robot at {where} answered HTTP {error.code}",
            retryable=error.code >= 500 or error.code in (408, 429),
        ) from error
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        raise WeChatRobotError(
            f"WeChat robot at {where} unreachable: {error}", retryable=True
        ) from error
    try:
        data = json.loads(raw)
        errcode = int(data.get("errcode", -1))
    except (ValueError, TypeError, AttributeError) as error:
        raise WeChatRobotError(
            f"WeChat robot at {where} answered with something that is not its JSON",
            retryable=True,
        ) from error
    if errcode != 0:
        raise WeChatRobotError(
            f"WeChat robot errcode {errcode}: {data.get('errmsg', '')}",
            retryable=errcode in RETRYABLE_ERRCODES,
            errcode=errcode,
        )
    return f"wechat-{uuid.uuid4()}"

"""HMAC-SHA256 signatures of the gateway's notifications.

Header ``X-Sandbox-Signature: t=<unix time>,v1=<hex>`` where ``v1`` is
HMAC-SHA256(secret, "<t>.<raw body>"), the scheme Stripe and others use.
"""

import hashlib
import hmac
import time

from django.conf import settings

HEADER = "X-Sandbox-Signature"


def _secret() -> bytes:
    return settings.SANDBOX_PAY_SECRET.encode()


def sign(body: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(_secret(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(body: bytes, header: str) -> bool:
    parts = dict(part.split("=", 1) for part in (header or "").split(",") if "=" in part)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    # ASCII only: "²".isdigit() is true but int() refuses it, and compare_digest raises on
    # non-ASCII text; a malformed header must be refused, never crash the endpoint.
    if not (timestamp.isascii() and timestamp.isdigit()) or not (given and given.isascii()):
        return False
    expected = sign(body, timestamp=int(timestamp)).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)

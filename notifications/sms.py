"""SMS backends. Login codes use the same backend as every other text message.

``SMS_BACKEND`` names the class: console (embedded mode), locmem (tests) or
``notifications.sms.AliyunSmsBackend`` (Aliyun Dysmsapi ``SendSms``, production).

Backends return the provider's message id and raise :class:`SmsSendError` on failure;
its ``retryable`` flag tells the caller whether sending again later can succeed
(network trouble, HTTP 5xx, throttling) or not (invalid number, unapproved template,
bad credentials).
"""

import base64
import hashlib
import hmac
import http.client
import json
import logging
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsSendError(Exception):
    """A text could not be sent. ``retryable`` says whether a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool, code: str = ""):
        super().__init__(message)
        self.retryable = retryable
        self.code = code


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    purpose: str = "notification"
    sent_at: object = field(default_factory=timezone.now)
    # The message kind that picks the provider template, e.g. "verification_code" or a
    # notification kind such as "community_welcome"; empty means ``purpose``.
    template: str = ""
    # Template variables, e.g. {"code": "123456"} or {"title": ..., "link": ...}.
    params: dict = field(default_factory=dict, hash=False)
    # Stable per logical message (e.g. "delivery-123"); sent as the provider's out id.
    idempotency_key: str = ""

    @property
    def kind(self) -> str:
        return self.template or self.purpose


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> str:
        """Send one text; return the provider's message id or raise SmsSendError."""
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints texts to stdout so a developer can read login codes in the server log."""

    def send(self, message: SmsMessage) -> str:
        sys.stdout.write(f"[SMS to {message.phone}] {message.text}\n")
        sys.stdout.flush()
        return f"console-{message.sent_at.timestamp()}"


# Texts sent through LocmemSmsBackend, newest last; tests read and clear it.
outbox: list[SmsMessage] = []


class LocmemSmsBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> str:
        outbox.append(message)
        return f"locmem-{len(outbox)}"


# --- Aliyun Dysmsapi SendSms (RPC style, signature version 1.0) ----------------------

ALIYUN_API_VERSION = "2017-05-25"
ALIYUN_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# Business errors: sending the same request again cannot succeed.
ALIYUN_PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.INVALID_JSON_PARAM",
        "isv.INVALID_PARAMETERS",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
        "isv.SIGN_STATE_ILLEGAL",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.DAY_LIMIT_CONTROL",
        "isv.MONTH_LIMIT_CONTROL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.OUT_OF_SERVICE",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.DENY_IP_RANGE",
        "isp.RAM_PERMISSION_DENY",
        # Gateway-level authentication errors.
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "IncompleteSignature",
        "Forbidden.RAM",
        "MissingParameter",
        "InvalidParameter",
    }
)
# Transient: flow control, throttling and provider-side failures.
ALIYUN_RETRYABLE_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "SignatureNonceUsed",
        "ServiceUnavailable",
        "InternalError",
    }
)


def aliyun_code_is_retryable(code: str) -> bool:
    """Whether an Aliyun error ``Code`` is worth retrying later."""
    if code in ALIYUN_PERMANENT_CODES:
        return False
    if code in ALIYUN_RETRYABLE_CODES or code.startswith("isp."):
        return True
    if code.startswith("Throttling"):
        return True
    # Unknown isv.* codes are business errors about this request; other unknown codes
    # (gateway or service trouble) get another try.
    return not code.startswith("isv.")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Aliyun's RPC signature wants it: UTF-8, only A-Z a-z 0-9 - _ . ~
    left as they are, space as %20 (never '+'), '*' as %2A."""
    return urllib.parse.quote(str(value), safe="~")


def canonicalized_query(params: dict) -> str:
    """Parameters (Signature excluded) sorted by key, each key and value percent-encoded."""
    return "&".join(
        f"{percent_encode(key)}={percent_encode(value)}"
        for key, value in sorted(params.items())
        if key != "Signature"
    )


def string_to_sign(params: dict, method: str = "GET") -> str:
    return f"{method}&{percent_encode('/')}&{percent_encode(canonicalized_query(params))}"


def aliyun_signature(params: dict, secret: str, method: str = "GET") -> str:
    """Base64(HMAC-SHA1(key=AccessKeySecret + "&", StringToSign))."""
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign(params, method).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def aliyun_phone_number(phone: str) -> str:
    """E.164 to Aliyun's PhoneNumbers: the 11-digit national number for mainland China,
    country code + number without '+' for everywhere else ('+85212345678' -> '85212345678')."""
    phone = phone.strip().replace(" ", "").replace("-", "")
    if phone.startswith("+86"):
        return phone[3:]
    return phone.removeprefix("+")


class AliyunSmsBackend(BaseSmsBackend):
    """Aliyun SMS (Dysmsapi 2017-05-25 ``SendSms``) over the RPC HTTP API, GET + HMAC-SHA1.

    Settings: ALIYUN_SMS_ACCESS_KEY_ID, ALIYUN_SMS_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME,
    ALIYUN_SMS_ENDPOINT, ALIYUN_SMS_REGION, ALIYUN_SMS_TEMPLATES ({kind: TemplateCode,
    "default": TemplateCode}) and SMS_HTTP_TIMEOUT (seconds).
    """

    def __init__(self):
        self.access_key_id = getattr(settings, "ALIYUN_SMS_ACCESS_KEY_ID", "")
        self.access_key_secret = getattr(settings, "ALIYUN_SMS_ACCESS_KEY_SECRET", "")
        self.sign_name = getattr(settings, "ALIYUN_SMS_SIGN_NAME", "")
        self.endpoint = getattr(settings, "ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
        self.region = getattr(settings, "ALIYUN_SMS_REGION", "cn-hangzhou")
        self.templates = dict(getattr(settings, "ALIYUN_SMS_TEMPLATES", {}) or {})
        self.timeout = float(getattr(settings, "SMS_HTTP_TIMEOUT", 10))

    def template_code(self, kind: str) -> str:
        code = self.templates.get(kind) or self.templates.get("default")
        if not code:
            raise SmsSendError(
                f"ALIYUN_SMS_TEMPLATES has no template for {kind!r} and no 'default'",
                retryable=False,
                code="config",
            )
        return code

    @staticmethod
    def template_param(message: SmsMessage) -> dict:
        if message.kind == "verification_code" and "code" in message.params:
            return {"code": str(message.params["code"])}
        if message.params:
            return dict(message.params)
        return {"content": message.text[:70]}

    def build_params(
        self, message: SmsMessage, *, nonce: str | None = None, timestamp: str | None = None
    ) -> dict:
        """Every query parameter except Signature."""
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "Timestamp": timestamp or datetime.now(UTC).strftime(ALIYUN_TIMESTAMP_FORMAT),
            "Version": ALIYUN_API_VERSION,
            "PhoneNumbers": aliyun_phone_number(message.phone),
            "SignName": self.sign_name,
            "TemplateCode": self.template_code(message.kind),
            "TemplateParam": json.dumps(
                self.template_param(message), ensure_ascii=False, separators=(",", ":")
            ),
        }
        if message.idempotency_key:
            params["OutId"] = message.idempotency_key
        return params

    def signed_url(self, params: dict) -> str:
        signature = aliyun_signature(params, self.access_key_secret)
        query = f"{canonicalized_query(params)}&Signature={percent_encode(signature)}"
        endpoint = self.endpoint
        if not urllib.parse.urlsplit(endpoint).path:
            endpoint += "/"
        return f"{endpoint}?{query}"

    def send(self, message: SmsMessage) -> str:
        missing = [
            name
            for name, value in (
                ("ALIYUN_SMS_ACCESS_KEY_ID", self.access_key_id),
                ("ALIYUN_SMS_ACCESS_KEY_SECRET", self.access_key_secret),
                ("ALIYUN_SMS_SIGN_NAME", self.sign_name),
            )
            if not value
        ]
        if missing:
            raise SmsSendError(
                f"Aliyun SMS is not configured: {', '.join(missing)} missing",
                retryable=False,
                code="config",
            )
        url = self.signed_url(self.build_params(message))
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            raise self._http_error(error) from error
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            # Connection refused, DNS failure, TLS trouble, timeout.
            raise SmsSendError(f"Aliyun SMS unreachable: {error}", retryable=True) from error
        try:
            data = json.loads(body)
        except ValueError as error:
            raise SmsSendError(
                "Aliyun SMS answered with something that is not JSON", retryable=True
            ) from error
        if not isinstance(data, dict):
            raise SmsSendError("Aliyun SMS answered with an unexpected JSON shape", retryable=True)
        code = str(data.get("Code", ""))
        if code != "OK":
            raise SmsSendError(
                f"Aliyun SMS {code}: {data.get('Message', '')}",
                retryable=aliyun_code_is_retryable(code),
                code=code,
            )
        return str(data.get("BizId") or data.get("RequestId") or "")

    @staticmethod
    def _http_error(error: urllib.error.HTTPError) -> SmsSendError:
        try:
            data = json.loads(error.read() or b"{}")
        except (ValueError, OSError):
            data = {}
        code = str(data.get("Code", "")) if isinstance(data, dict) else ""
        if error.code >= 500 or error.code in (408, 429):
            retryable = True
        elif code:
            retryable = aliyun_code_is_retryable(code)
        else:
            retryable = False
        detail = data.get("Message", "") if isinstance(data, dict) else ""
        text = " ".join(part for part in (code, str(detail or error.reason)) if part)
        return SmsSendError(
            f"Aliyun SMS HTTP {error.code}: {text}",
            retryable=retryable,
            code=code or f"HTTP{error.code}",
        )


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def sms_send(
    *,
    phone: str,
    text: str,
    purpose: str = "notification",
    template: str | None = None,
    params: dict | None = None,
    idempotency_key: str = "",
) -> str:
    """Send one text through ``SMS_BACKEND``; return the provider message id.

    ``template`` (default: ``purpose``) picks the provider template, ``params`` fills it
    and ``idempotency_key`` travels as the provider's out id. Raises SmsSendError.
    """
    message = SmsMessage(
        phone=phone,
        text=text,
        purpose=purpose,
        template=template if template is not None else purpose,
        params=dict(params or {}),
        idempotency_key=idempotency_key,
    )
    message_id = get_sms_backend().send(message)
    logger.info("sms sent purpose=%s template=%s id=%s", purpose, message.kind, message_id)
    return message_id

"""Channel transports against local fake servers: Aliyun SMS, WeChat Work robot, e-mail.

Nothing leaves 127.0.0.1: the fakes in tests/notifications/fakes.py stand in for the
providers and check what they receive (the Aliyun fake re-verifies every signature).
"""

import base64
import hashlib
import hmac
import json
import re
import smtplib
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from notifications import sms
from notifications.email import EmailSendError, email_send
from notifications.sms import (
    AliyunSmsBackend,
    SmsMessage,
    SmsSendError,
    aliyun_signature,
    canonicalized_query,
    percent_encode,
    sms_send,
    string_to_sign,
)
from notifications.wechat import (
    MARKDOWN_MAX_BYTES,
    WeChatRobotError,
    robot_post,
    validate_webhook_url,
)

from .fakes import FakeAliyunSms, FakeWeChatRobot, closed_port_url

KEY_ID = "LTAI-test-key"
SECRET = "test-secret/with+odd=chars"
SIGN_NAME = "邻里团购"
PHONE = "+8613712345678"


@pytest.fixture(autouse=True)
def _no_proxy_for_localhost(monkeypatch):
    # A developer's http_proxy must not swallow requests meant for the local fakes.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def aliyun(settings):
    with FakeAliyunSms(SECRET, access_key_id=KEY_ID) as fake:
        settings.SMS_BACKEND = "notifications.sms.AliyunSmsBackend"
        settings.ALIYUN_SMS_ACCESS_KEY_ID = KEY_ID
        settings.ALIYUN_SMS_ACCESS_KEY_SECRET = SECRET
        settings.ALIYUN_SMS_SIGN_NAME = SIGN_NAME
        settings.ALIYUN_SMS_ENDPOINT = fake.url
        settings.ALIYUN_SMS_REGION = "cn-hangzhou"
        settings.ALIYUN_SMS_TEMPLATES = {
            "verification_code": "SMS_CODE_1",
            "community_welcome": "SMS_WELCOME_2",
            "default": "SMS_NOTICE_9",
        }
        settings.SMS_HTTP_TIMEOUT = 2
        yield fake


@pytest.fixture
def robot():
    with FakeWeChatRobot() as fake:
        yield fake


# --- Signing ------------------------------------------------------------------------


def _independent_signature(canonical: str, secret: str) -> str:
    """The documented algorithm by hand. ``canonical`` holds only unreserved characters,
    '%', '=' and '&', so encoding it a second time means just these three replacements."""
    encoded = canonical.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
    to_sign = "GET&%2F&" + encoded
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def test_percent_encoding_follows_rfc_3986_as_aliyun_wants():
    assert percent_encode("a b") == "a%20b"
    assert percent_encode("*") == "%2A"
    assert percent_encode("~") == "~"
    assert percent_encode("-_.") == "-_."
    assert percent_encode("/+=&:") == "%2F%2B%3D%26%3A"
    assert percent_encode("团购") == "%E5%9B%A2%E8%B4%AD"


def test_signature_reproduces_aliyun_documented_example():
    # The worked example of Aliyun's "signature mechanism" page (RPC API, version 1.0):
    # AccessKey testid / testsecret, DescribeRegions.
    params = {
        "TimeStamp": "2016-02-23T12:46:24Z",
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Version": "2014-05-26",
        "SignatureVersion": "1.0",
    }
    # The separators of the canonicalized query are encoded again (%26): the published
    # signature only comes out that way.
    assert string_to_sign(params) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
        "%26SignatureVersion%3D1.0%26TimeStamp%3D2016-02-23T12%253A46%253A24Z"
        "%26Version%3D2014-05-26"
    )
    assert aliyun_signature(params, "testsecret") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="


def test_send_sms_parameters_and_signature_known_answer(settings):
    settings.ALIYUN_SMS_ACCESS_KEY_ID = "testid"
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "testsecret"
    settings.ALIYUN_SMS_SIGN_NAME = "团购 小区*~"
    settings.ALIYUN_SMS_REGION = "cn-hangzhou"
    settings.ALIYUN_SMS_TEMPLATES = {"default": "SMS_71390007"}
    backend = AliyunSmsBackend()
    message = SmsMessage(
        phone="+8613712345678",
        text="unused",
        template="pickup_ready",
        params={"title": "A b*c~d"},
        idempotency_key="delivery-42",
    )

    params = backend.build_params(
        message, nonce="45e25e9b-0a6f-4070-8c85-2956eda1b466", timestamp="2017-07-12T02:42:19Z"
    )

    assert params == {
        "AccessKeyId": "testid",
        "Action": "SendSms",
        "Format": "JSON",
        "OutId": "delivery-42",
        "PhoneNumbers": "13712345678",
        "RegionId": "cn-hangzhou",
        "SignName": "团购 小区*~",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"title":"A b*c~d"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    # Encoded by hand: space %20, '*' %2A, '~' as is, 团 E5 9B A2, 购 E8 B4 AD, 小 E5 B0 8F,
    # 区 E5 8C BA, ':' %3A, '"' %22, '{' %7B, '}' %7D.
    expected_canonical = (
        "AccessKeyId=testid&Action=SendSms&Format=JSON&OutId=delivery-42"
        "&PhoneNumbers=13712345678&RegionId=cn-hangzhou"
        "&SignName=%E5%9B%A2%E8%B4%AD%20%E5%B0%8F%E5%8C%BA%2A~"
        "&SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466"
        "&SignatureVersion=1.0&TemplateCode=SMS_71390007"
        "&TemplateParam=%7B%22title%22%3A%22A%20b%2Ac~d%22%7D"
        "&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
    )
    assert canonicalized_query(params) == expected_canonical
    expected_signature = _independent_signature(expected_canonical, "testsecret")
    assert aliyun_signature(params, "testsecret") == expected_signature
    # The request URL carries the signature percent-encoded ('+', '/', '=' escaped).
    url = backend.signed_url(params)
    assert url.endswith("&Signature=" + percent_encode(expected_signature))
    assert " " not in url and "+" not in url.split("&Signature=")[0]


# --- Aliyun backend against the fake ------------------------------------------------------


def test_verification_code_goes_out_signed_with_its_template(aliyun):
    message_id = sms_send(
        phone=PHONE,
        text="Your code is 123456",
        purpose="verification_code",
        params={"code": "123456"},
        idempotency_key="login-1",
    )

    (accepted,) = aliyun.messages
    assert message_id == accepted.biz_id
    assert accepted.phone == "13712345678"
    assert accepted.sign_name == SIGN_NAME
    assert accepted.template_code == "SMS_CODE_1"
    assert accepted.params == {"code": "123456"}
    assert accepted.out_id == "login-1"
    query = accepted.query
    assert query["AccessKeyId"] == KEY_ID
    assert query["Action"] == "SendSms"
    assert query["Version"] == "2017-05-25"
    assert query["Format"] == "JSON"
    assert query["RegionId"] == "cn-hangzhou"
    assert query["SignatureMethod"] == "HMAC-SHA1"
    assert query["SignatureVersion"] == "1.0"
    sent_at = datetime.strptime(query["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - sent_at) < timedelta(minutes=1)


def test_notification_kind_picks_its_template_and_passes_params(aliyun):
    sms_send(
        phone=PHONE,
        text="Welcome",
        purpose="community_welcome",
        template="community_welcome",
        params={"title": "欢迎加入", "link": "https://tuangou.example.com/n/1"},
        idempotency_key="delivery-7",
    )

    (accepted,) = aliyun.messages
    assert accepted.template_code == "SMS_WELCOME_2"
    assert accepted.params == {"title": "欢迎加入", "link": "https://tuangou.example.com/n/1"}
    assert accepted.out_id == "delivery-7"


def test_unknown_kind_falls_back_to_default_template_and_text_content(aliyun):
    text = "提货提醒:" + "很长的内容" * 30
    sms_send(phone="+85212345678", text=text, template="pickup_reminder")

    (accepted,) = aliyun.messages
    assert accepted.template_code == "SMS_NOTICE_9"
    assert accepted.params == {"content": text[:70]}
    assert accepted.phone == "85212345678"  # international: country code, no '+'
    assert accepted.out_id == ""
    assert "OutId" not in accepted.query


def test_every_request_gets_a_fresh_nonce(aliyun):
    for n in range(3):
        sms_send(phone=PHONE, text=f"n{n}", params={"n": str(n)})
    nonces = {m.query["SignatureNonce"] for m in aliyun.messages}
    assert len(aliyun.messages) == 3 and len(nonces) == 3


def test_wrong_secret_is_rejected_and_not_retryable(aliyun, settings):
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "not-the-secret"

    with pytest.raises(SmsSendError) as caught:
        sms_send(phone=PHONE, text="hello")

    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.retryable is False
    assert aliyun.messages == []
    assert len(aliyun.requests) == 1


def test_unknown_access_key_is_not_retryable(aliyun, settings):
    settings.ALIYUN_SMS_ACCESS_KEY_ID = "LTAI-someone-else"
    with pytest.raises(SmsSendError) as caught:
        sms_send(phone=PHONE, text="hello")
    assert caught.value.code == "InvalidAccessKeyId.NotFound"
    assert caught.value.retryable is False


def test_http_500_is_retryable_and_the_next_try_goes_through(aliyun):
    aliyun.fail_next(1, status=500)

    with pytest.raises(SmsSendError) as caught:
        sms_send(phone=PHONE, text="hello", idempotency_key="delivery-9")
    assert caught.value.retryable is True

    assert sms_send(phone=PHONE, text="hello", idempotency_key="delivery-9")
    (accepted,) = aliyun.messages
    assert accepted.out_id == "delivery-9"
    # Each attempt is signed afresh: two requests, two nonces.
    assert len({r["SignatureNonce"] for r in aliyun.requests}) == 2


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("isv.MOBILE_NUMBER_ILLEGAL", False),
        ("isv.TEMPLATE_MISSING_PARAMETERS", False),
        ("isv.SMS_TEMPLATE_ILLEGAL", False),
        ("isv.SMS_SIGNATURE_ILLEGAL", False),
        ("isv.INVALID_JSON_PARAM", False),
        ("isv.AMOUNT_NOT_ENOUGH", False),
        ("isv.SOME_NEW_BUSINESS_ERROR", False),
        ("isp.RAM_PERMISSION_DENY", False),
        ("isv.BUSINESS_LIMIT_CONTROL", True),
        ("isp.SYSTEM_ERROR", True),
        ("isp.SOME_NEW_PLATFORM_ERROR", True),
        ("Throttling.User", True),
        ("ServiceUnavailable", True),
    ],
)
def test_business_codes_are_mapped(aliyun, code, retryable):
    aliyun.fail_next(code=code, message="测试错误")

    with pytest.raises(SmsSendError) as caught:
        sms_send(phone=PHONE, text="hello")

    assert caught.value.code == code
    assert caught.value.retryable is retryable
    assert code in str(caught.value)
    assert PHONE not in str(caught.value) and "13712345678" not in str(caught.value)


def test_throttling_with_http_status_is_retryable(aliyun):
    aliyun.fail_next(code="Throttling.User", status=400)
    with pytest.raises(SmsSendError) as caught:
        sms_send(phone=PHONE, text="hello")
    assert caught.value.retryable is True


def test_invalid_number_from_the_provider_is_not_retryable(aliyun):
    with pytest.raises(SmsSendError) as caught:
        sms_send(phone="+86 137-1234-567x", text="hello")
    assert caught.value.code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert caught.value.retryable is False


def test_connection_refused_is_retryable(aliyun, settings):
    settings.ALIYUN_SMS_ENDPOINT = closed_port_url()
    with pytest.raises(SmsSendError) as caught:
        sms_send(phone=PHONE, text="hello")
    assert caught.value.retryable is True


def test_connection_dropped_is_retryable(aliyun):
    aliyun.drop_next()
    with pytest.raises(SmsSendError) as caught:
        sms_send(phone=PHONE, text="hello")
    assert caught.value.retryable is True


def test_timeout_is_retryable(aliyun, settings):
    settings.SMS_HTTP_TIMEOUT = 0.2
    aliyun.stall_next(seconds=3)
    with pytest.raises(SmsSendError) as caught:
        sms_send(phone=PHONE, text="hello")
    assert caught.value.retryable is True


def test_missing_credentials_fail_without_a_request(aliyun, settings):
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = ""
    with pytest.raises(SmsSendError) as caught:
        sms_send(phone=PHONE, text="hello")
    assert caught.value.retryable is False
    assert "ALIYUN_SMS_ACCESS_KEY_SECRET" in str(caught.value)
    assert aliyun.requests == []


def test_no_template_and_no_default_fails_without_a_request(aliyun, settings):
    settings.ALIYUN_SMS_TEMPLATES = {"verification_code": "SMS_CODE_1"}
    with pytest.raises(SmsSendError) as caught:
        sms_send(phone=PHONE, text="hello", template="community_welcome")
    assert caught.value.retryable is False
    assert aliyun.requests == []


def test_endpoint_without_trailing_slash_still_signs_path_slash(aliyun, settings):
    settings.ALIYUN_SMS_ENDPOINT = aliyun.base_url  # no "/"
    assert sms_send(phone=PHONE, text="hello")
    assert len(aliyun.messages) == 1


# --- sms_send keeps its old contract ----------------------------------------------------


def test_sms_send_defaults_template_to_purpose(sms_outbox):
    message_id = sms_send(phone=PHONE, text="hi", purpose="verification_code")
    (message,) = sms_outbox
    assert message_id == "locmem-1"
    assert message.template == "verification_code"
    assert message.params == {}
    assert message.idempotency_key == ""


@pytest.mark.django_db
def test_phone_sign_up_sends_the_code_through_aliyun(client, aliyun):
    response = client.post(reverse("account_signup"), {"phone": PHONE})

    assert response.status_code == 302
    (accepted,) = aliyun.messages
    assert accepted.template_code == "SMS_CODE_1"
    assert accepted.phone == "13712345678"
    assert re.fullmatch(r"\d{6}", accepted.params["code"])
    # The code works: the verify step accepts it.
    response = client.post(reverse("account_verify_phone"), {"code": accepted.params["code"]})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@pytest.mark.django_db
def test_phone_sign_up_locmem_message_carries_template_and_code(client, sms_outbox):
    client.post(reverse("account_signup"), {"phone": PHONE})
    (message,) = sms_outbox
    assert message.purpose == "verification_code"
    assert message.template == "verification_code"
    assert message.params["code"] in message.text


def test_unknown_account_text_uses_its_own_template(sms_outbox):
    from accounts.adapter import AccountAdapter

    AccountAdapter().send_unknown_account_sms(PHONE)
    (message,) = sms_outbox
    assert message.purpose == "verification_code"
    assert message.template == "unknown_account"


def test_sms_module_outbox_is_the_conftest_one(sms_outbox):
    assert sms_outbox is sms.outbox


# --- WeChat Work group robot --------------------------------------------------------------


def test_robot_posts_markdown(robot):
    message_id = robot_post(
        webhook_url=robot.url,
        title="周五提货",
        body="请到小区东门提货。",
        link="https://tuangou.example.com/n/5",
    )

    assert message_id.startswith("wechat-")
    (post,) = robot.posts
    assert post == {
        "msgtype": "markdown",
        "markdown": {
            "content": "**周五提货**\n请到小区东门提货。\n"
            "[https://tuangou.example.com/n/5](https://tuangou.example.com/n/5)"
        },
    }
    assert robot.content_types[0].startswith("application/json")


def test_robot_without_link_has_no_link_line(robot):
    robot_post(webhook_url=robot.url, title="T", body="B")
    assert robot.posts[0]["markdown"]["content"] == "**T**\nB"


def test_robot_content_is_truncated_to_4096_bytes(robot):
    link = "https://tuangou.example.com/n/6"
    robot_post(webhook_url=robot.url, title="长公告", body="团" * 3000, link=link)

    content = robot.posts[0]["markdown"]["content"]
    assert len(content.encode("utf-8")) <= MARKDOWN_MAX_BYTES
    assert content.startswith("**长公告**\n团")
    assert content.endswith(f"…\n[{link}]({link})")


def test_robot_huge_title_is_still_cut_safely(robot):
    robot_post(webhook_url=robot.url, title="题" * 2000, body="x", link="https://e.com/")
    content = robot.posts[0]["markdown"]["content"]
    assert len(content.encode("utf-8")) <= MARKDOWN_MAX_BYTES
    content.encode("utf-8").decode("utf-8")  # no half characters


@pytest.mark.parametrize(
    ("errcode", "retryable"),
    [(93000, False), (40058, False), (45009, True), (-1, True)],
)
def test_robot_errcodes(robot, errcode, retryable):
    robot.respond_next(errcode, "error text")
    with pytest.raises(WeChatRobotError) as caught:
        robot_post(webhook_url=robot.url, title="T", body="B")
    assert caught.value.errcode == errcode
    assert caught.value.retryable is retryable


def test_robot_invalid_webhook_key_is_not_retryable(robot):
    with pytest.raises(WeChatRobotError) as caught:
        robot_post(webhook_url=robot.base_url + "/cgi-bin/webhook/send?key=", title="T", body="B")
    assert caught.value.errcode == 93000
    assert caught.value.retryable is False


def test_robot_http_500_is_retryable(robot):
    robot.fail_next(status=502)
    with pytest.raises(WeChatRobotError) as caught:
        robot_post(webhook_url=robot.url, title="T", body="B")
    assert caught.value.retryable is True


def test_robot_network_error_is_retryable():
    with pytest.raises(WeChatRobotError) as caught:
        robot_post(webhook_url=closed_port_url("/cgi-bin/webhook/send?key=k"), title="T", body="B")
    assert caught.value.retryable is True
    assert "key=k" not in str(caught.value)


def test_robot_dropped_connection_is_retryable(robot):
    robot.drop_next()
    with pytest.raises(WeChatRobotError) as caught:
        robot_post(webhook_url=robot.url, title="T", body="B")
    assert caught.value.retryable is True


@pytest.mark.parametrize(
    "url",
    [
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc&debug=1",
    ],
)
def test_validate_webhook_url_accepts_the_official_robot(url):
    validate_webhook_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=&x=1",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
        "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
        "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=abc",
        "https://evil.example/?u=https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
        "https://oapi.dingtalk.com/robot/send?access_token=abc",
        " https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a b",
        "http://127.0.0.1:8000/cgi-bin/webhook/send?key=abc",
    ],
)
def test_validate_webhook_url_rejects_everything_else(url):
    with pytest.raises(ValidationError) as caught:
        validate_webhook_url(url)
    assert caught.value.code == "invalid_webhook"


def test_validate_webhook_url_honours_the_setting(settings, robot):
    settings.WECHAT_ROBOT_ALLOWED_PREFIXES = [robot.base_url + "/cgi-bin/webhook/send?key="]
    validate_webhook_url(robot.url)
    with pytest.raises(ValidationError):
        validate_webhook_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc")


# --- E-mail ----------------------------------------------------------------------------


def test_email_send_sets_a_message_id_from_the_key(settings, mailoutbox):
    settings.SITE_URL = "https://tuangou.example.com"
    message_id = email_send(
        to="member@example.com",
        subject="周五提货",
        body="请到东门提货。",
        idempotency_key="delivery-123",
    )

    assert message_id == "<tuangou.delivery-123@tuangou.example.com>"
    (sent,) = mailoutbox
    assert sent.to == ["member@example.com"]
    assert sent.from_email == settings.DEFAULT_FROM_EMAIL
    assert sent.subject == "周五提货"
    assert sent.extra_headers["Message-ID"] == message_id
    assert sent.message()["Message-ID"] == message_id


def test_email_same_key_same_message_id(settings):
    settings.SITE_URL = "https://tuangou.example.com"
    first = email_send(to="a@example.com", subject="s", body="b", idempotency_key="delivery-5")
    again = email_send(to="a@example.com", subject="s", body="b", idempotency_key="delivery-5")
    other = email_send(to="a@example.com", subject="s", body="b", idempotency_key="delivery-6")
    assert first == again != other
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [first, again, other]


def test_email_message_id_is_well_formed_for_odd_keys(settings):
    settings.SITE_URL = ""
    settings.DEFAULT_FROM_EMAIL = "Tuangou <noreply@mail.tuangou.example>"
    message_id = email_send(
        to="a@example.com", subject="s", body="b", idempotency_key="delivery 7/<x>@y"
    )
    assert re.fullmatch(
        r"<tuangou\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+@mail\.tuangou\.example>", message_id
    )
    with pytest.raises(ValueError):
        email_send(to="a@example.com", subject="s", body="b", idempotency_key="")


class _RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")})


class _FlakyBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.mark.parametrize(
    ("backend", "retryable"),
    [(_RefusingBackend, False), (_FlakyBackend, True)],
)
def test_email_errors_are_mapped(settings, backend, retryable):
    settings.EMAIL_BACKEND = f"{__name__}.{backend.__name__}"
    with pytest.raises(EmailSendError) as caught:
        email_send(to="a@example.com", subject="s", body="b", idempotency_key="delivery-1")
    assert caught.value.retryable is retryable
    assert "a@example.com" not in str(caught.value)


def test_email_smtp_server_down_is_retryable(settings):
    port = int(closed_port_url().rsplit(":", 1)[1].rstrip("/"))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
    with pytest.raises(EmailSendError) as caught:
        email_send(to="a@example.com", subject="s", body="b", idempotency_key="delivery-1")
    assert caught.value.retryable is True


def test_template_param_json_keeps_chinese_readable(settings):
    settings.ALIYUN_SMS_TEMPLATES = {"default": "SMS_1"}
    params = AliyunSmsBackend().build_params(
        SmsMessage(phone=PHONE, text="t", params={"title": "提货"})
    )
    assert json.loads(params["TemplateParam"]) == {"title": "提货"}
    assert "提货" in params["TemplateParam"]

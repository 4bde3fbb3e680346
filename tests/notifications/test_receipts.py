"""Aliyun SMS delivery reports mark sent deliveries delivered or failed."""

import json

import pytest
from django.urls import reverse

from notifications.models import Delivery, DeliveryStatus
from notifications.services import delivery_send
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

TOKEN = "report-secret-123"


@pytest.fixture
def sent_sms(settings):
    settings.ALIYUN_SMS_REPORT_TOKEN = TOKEN
    settings.NOTIFICATIONS_SMS_QUIET_HOURS = (0, 0)  # no quiet hours in these tests
    membership = MembershipFactory()
    delivery = Delivery.objects.get(notification__recipient=membership.user, channel="sms")
    assert delivery_send(delivery_id=delivery.pk) == "sent"
    delivery.refresh_from_db()
    return delivery


def _report(client, token, payload):
    return client.post(
        reverse("notifications:aliyun_sms_report", args=[token]),
        data=json.dumps(payload),
        content_type="application/json",
    )


def _item(delivery, success, err_code="DELIVERED"):
    return {
        "phone_number": "13800000000",
        "success": success,
        "err_code": err_code,
        "err_msg": "用户接收成功" if success else "用户关机",
        "biz_id": "12345",
        "out_id": delivery.idempotency_key,
    }


def test_success_report_marks_delivered_and_repeat_changes_nothing(client, sent_sms):
    response = _report(client, TOKEN, [_item(sent_sms, True)])
    assert response.status_code == 200
    assert response.json() == {"code": 0, "msg": "成功"}
    sent_sms.refresh_from_db()
    assert sent_sms.status == DeliveryStatus.DELIVERED
    _report(client, TOKEN, [_item(sent_sms, False, "MK:0001")])  # late, contradictory
    sent_sms.refresh_from_db()
    assert sent_sms.status == DeliveryStatus.DELIVERED


def test_failure_report_marks_failed_with_the_error(client, sent_sms):
    _report(client, TOKEN, [_item(sent_sms, False, "MK:0001")])
    sent_sms.refresh_from_db()
    assert sent_sms.status == DeliveryStatus.FAILED
    assert "MK:0001" in sent_sms.last_error


@pytest.mark.parametrize("token", ["wrong", ""])
def test_wrong_or_unset_token_is_404(client, sent_sms, settings, token):
    if not token:
        settings.ALIYUN_SMS_REPORT_TOKEN = ""
        token = TOKEN
    response = _report(client, token, [_item(sent_sms, True)])
    assert response.status_code == 404
    sent_sms.refresh_from_db()
    assert sent_sms.status == DeliveryStatus.SENT


def test_bad_payloads_are_refused_or_ignored(client, sent_sms):
    url = reverse("notifications:aliyun_sms_report", args=[TOKEN])
    assert client.post(url, data="not json", content_type="application/json").status_code == 400
    assert _report(client, TOKEN, {"out_id": "x"}).status_code == 400
    response = _report(client, TOKEN, [{"out_id": "order-5", "success": True}, "junk"])
    assert response.status_code == 200
    sent_sms.refresh_from_db()
    assert sent_sms.status == DeliveryStatus.SENT

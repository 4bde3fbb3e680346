from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from notifications import tasks


def test_a_chunk_past_its_soft_time_limit_requeues_the_rest():
    sent = []

    def send(*, delivery_id):
        if delivery_id == 3:
            raise SoftTimeLimitExceeded()
        sent.append(delivery_id)

    with (
        mock.patch.object(tasks.services, "delivery_send", side_effect=send),
        mock.patch.object(tasks.services, "enqueue_deliveries") as enqueue,
    ):
        tasks.send_deliveries.run([1, 2, 3, 4, 5])
    assert sent == [1, 2]
    enqueue.assert_called_once_with([3, 4, 5])


def test_delivery_send_does_not_count_a_time_limit_as_a_channel_failure(db, settings):
    from notifications.models import Delivery, DeliveryStatus
    from notifications.services import delivery_send
    from tests.factories import MembershipFactory

    settings.NOTIFICATIONS_SMS_QUIET_HOURS = (0, 0)
    membership = MembershipFactory()
    delivery = Delivery.objects.get(notification__recipient=membership.user, channel="sms")
    with (
        mock.patch(
            "notifications.services._send_over_channel", side_effect=SoftTimeLimitExceeded()
        ),
        pytest.raises(SoftTimeLimitExceeded),
    ):
        delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.attempts == 0

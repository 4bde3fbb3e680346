"""The Delivery state machine: queued -> sent -> delivered, queued -> delivered,
queued -> failed, sent -> failed (the provider reported it undelivered); nothing else,
and the status only changes through transitions."""

import pytest
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from notifications.models import Channel, Delivery, DeliveryStatus
from notifications.services import notify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Q, S, D, F = (
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
)
TRANSITIONS = ("mark_sent", "mark_delivered", "mark_failed", "mark_undelivered")
ALLOWED = {
    (Q, "mark_sent"): S,
    (Q, "mark_delivered"): D,
    (Q, "mark_failed"): F,
    (S, "mark_delivered"): D,
    (S, "mark_undelivered"): F,
}
# How to reach each state from queued.
PATHS = {Q: [], S: ["mark_sent"], D: ["mark_sent", "mark_delivered"], F: ["mark_failed"]}
PAIRS = [(state, name) for state in (Q, S, D, F) for name in TRANSITIONS]


def _delivery_in(state) -> Delivery:
    broadcast = notify(
        recipients=[UserFactory()], kind="community_welcome", context={"community_name": "x"}
    )
    delivery = Delivery.objects.get(broadcast=broadcast, channel=Channel.SMS)
    assert delivery.status == Q
    for name in PATHS[state]:
        getattr(delivery, name)()
        delivery.save()
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert delivery.status == state
    return delivery


def test_every_pair_is_listed():
    declared = list(Delivery._meta.get_field("status").get_all_transitions(Delivery))
    assert {t.name for t in declared} == set(TRANSITIONS)
    assert {(t.source, t.name): t.target for t in declared} == ALLOWED
    assert len(PAIRS) == 16


@pytest.mark.parametrize(("state", "name"), PAIRS, ids=[f"{s}-{n}" for s, n in PAIRS])
def test_transition(state, name):
    delivery = _delivery_in(state)
    method = getattr(delivery, name)

    if (state, name) in ALLOWED:
        assert can_proceed(method)
        method()
        delivery.save()
        assert Delivery.objects.get(pk=delivery.pk).status == ALLOWED[(state, name)]
    else:
        assert not can_proceed(method)
        with pytest.raises(TransitionNotAllowed):
            method()
        assert delivery.status == state
        assert Delivery.objects.get(pk=delivery.pk).status == state


def test_status_cannot_be_assigned():
    delivery = _delivery_in(Q)

    with pytest.raises(AttributeError):
        delivery.status = DeliveryStatus.SENT

    assert Delivery.objects.get(pk=delivery.pk).status == Q


def test_new_deliveries_start_queued():
    delivery = _delivery_in(Q)

    robot = Delivery.objects.create(
        broadcast=delivery.broadcast,
        channel=Channel.WECHAT_ROBOT,
        address="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        next_attempt_at=timezone.now(),
    )

    assert robot.status == Q
    assert robot.attempts == 0


def test_a_stale_copy_cannot_overwrite_a_newer_state():
    delivery = _delivery_in(Q)
    stale = Delivery.objects.get(pk=delivery.pk)
    delivery.mark_failed()
    delivery.save()

    stale.mark_sent()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()

    assert Delivery.objects.get(pk=delivery.pk).status == F

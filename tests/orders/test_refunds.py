"""Refunds (orders/services/refunds.py): booked in the deciding transaction, sent to the
provider after commit, idempotent by refund number, retried with backoff, and failed for
good with the booking undone and the member and leader told."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from groupbuy.exceptions import DomainError
from orders.models import OrderLine, Refund, RefundStatus
from orders.providers import get_provider
from orders.providers.base import ProviderError
from orders.services import refunds as refund_services
from orders.services.refunds import (
    refund_fail,
    refund_request,
    refund_send,
    refunds_retry_due,
)
from sandboxpay.models import ChargeRefund
from tests.orders.conftest import make_shop
from tests.orders.test_ordering_services import changes, charge_of, notices, pay, reload

pytestmark = pytest.mark.django_db

TOTAL = Decimal("59.90")  # the fixture's default cart


@pytest.fixture
def paid(shop):
    """A paid order whose sandbox charge is paid, so the gateway accepts refunds."""
    order = shop.order()
    payment = pay(order)
    return reload(order), payment


def book(order, amount, *, line=None, reason="Short weight") -> Refund:
    """Request a refund in a committed-looking transaction without sending it."""
    with transaction.atomic():
        return refund_request(order=order, amount=Decimal(amount), reason=reason, line=line)


def grapes_line(order) -> OrderLine:
    return order.lines.get(product_name="阳光玫瑰葡萄")


def failing(monkeypatch, *, retryable=True, message="gateway timeout") -> list:
    calls = []

    def refund(**kwargs):
        calls.append(kwargs["refund_number"])
        raise ProviderError(message, retryable=retryable)

    monkeypatch.setattr(get_provider("sandbox"), "refund", refund)
    return calls


# Requesting


def test_request_books_the_amount_and_queues_after_commit(
    shop, paid, django_capture_on_commit_callbacks
):
    order, payment = paid
    line = grapes_line(order)
    before = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        refund = book(order, "10.00", line=line)
    assert refund.status == RefundStatus.REQUESTED
    assert (refund.amount, refund.reason, refund.payment, refund.line) == (
        Decimal("10.00"),
        "Short weight",
        payment,
        line,
    )
    assert refund.booked_on_order
    assert refund.attempts == 0
    assert before <= refund.next_attempt_at <= timezone.now()
    assert reload(order).refunded_total == Decimal("10.00")
    assert OrderLine.objects.get(pk=line.pk).refunded_amount == Decimal("10.00")
    assert changes(refund, "request").get().to_state == RefundStatus.REQUESTED
    # Nothing went to the provider inside the transaction; it is sent after commit.
    assert not ChargeRefund.objects.exists()
    assert len(callbacks) == 1
    callbacks[0]()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert ChargeRefund.objects.get().amount == Decimal("10.00")


def test_order_level_refund_does_not_touch_the_lines(paid):
    order, _payment = paid
    book(order, "5.00")
    assert reload(order).refunded_total == Decimal("5.00")
    assert {line.refunded_amount for line in order.lines.all()} == {Decimal("0.00")}


def test_nothing_to_refund_on_an_unpaid_order(shop):
    order = shop.order()
    assert book(order, "10.00") is None
    assert book(shop.order(shop.new_member()), "0") is None
    assert not Refund.objects.exists()
    assert reload(order).refunded_total == Decimal("0.00")


@pytest.mark.parametrize("first", [None, "50.00"])
def test_refund_above_what_was_paid_is_refused(paid, first):
    order, _payment = paid
    if first:
        book(order, first)
    booked = reload(order).refunded_total
    too_much = TOTAL - booked + Decimal("0.01")
    with pytest.raises(DomainError, match="exceeds what was paid"):
        book(order, too_much)
    assert reload(order).refunded_total == booked
    assert Refund.objects.count() == (1 if first else 0)
    book(order, TOTAL - booked)  # the exact remainder is fine
    assert reload(order).refunded_total == TOTAL


def test_a_failed_refund_frees_its_amount(paid, monkeypatch):
    order, _payment = paid
    failing(monkeypatch, retryable=False)
    refund = book(order, TOTAL)
    assert refund_send(refund_id=refund.pk) == "failed"
    monkeypatch.undo()
    again = book(order, TOTAL)
    assert refund_send(refund_id=again.pk) == "succeeded"
    assert reload(order).refunded_total == TOTAL


def test_amounts_that_floats_cannot_hold_add_up_exactly():
    """On SQLite 0.10 + 0.20 computed in SQL is 0.30000000000000004 > 0.30."""
    shop = make_shop(grapes={"member_price": Decimal("0.10")})
    order = shop.order(quantities={shop.grapes.pk: 3})
    pay(order)
    order = reload(order)
    line = order.lines.get()
    book(order, "0.10", line=line)
    book(order, "0.20", line=line)
    assert reload(order).refunded_total == Decimal("0.30")
    assert OrderLine.objects.get(pk=line.pk).refunded_amount == Decimal("0.30")


# Sending


def test_send_succeeds_once_and_tells_the_member(shop, paid):
    order, payment = paid
    refund = book(order, "12.50", reason="Bruised grapes")
    assert refund_send(refund_id=refund.pk) == "succeeded"
    assert refund_send(refund_id=refund.pk) == "not due"
    refund.refresh_from_db()
    sent = ChargeRefund.objects.get()
    assert (sent.refund_number, sent.amount, sent.charge) == (
        refund.refund_number,
        Decimal("12.50"),
        charge_of(payment),
    )
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.provider_reference == sent.reference
    assert refund.succeeded_at is not None
    assert refund.attempts == 1
    assert reload(order).refunded_total == Decimal("12.50")
    notice = notices(shop.member, "order_refunded", order).get()
    assert notice.context["amount"] == "12.50"
    assert notice.context["reason"] == "Bruised grapes"


def test_send_is_idempotent_by_refund_number(paid):
    """The provider took the refund but our answer was lost: sending again refunds once."""
    order, payment = paid
    refund = book(order, TOTAL)
    first = get_provider("sandbox").refund(
        trade_number=payment.trade_number,
        refund_number=refund.refund_number,
        amount=refund.amount,
        reason=refund.reason,
    )
    assert refund_send(refund_id=refund.pk) == "succeeded"
    Refund.objects.filter(pk=refund.pk).update(
        status=RefundStatus.REQUESTED, next_attempt_at=timezone.now()
    )
    assert refund_send(refund_id=refund.pk) == "succeeded"
    sent = ChargeRefund.objects.get()
    assert sent.reference == first.provider_reference
    assert Refund.objects.get(pk=refund.pk).provider_reference == sent.reference


def test_a_refund_in_hand_is_not_sent_twice_at_once(paid, monkeypatch):
    order, _payment = paid
    refund = book(order, TOTAL)
    provider = get_provider("sandbox")
    real_refund = provider.refund
    inner = []

    def refund_while_another_sender_runs(**kwargs):
        inner.append(refund_send(refund_id=refund.pk))
        return real_refund(**kwargs)

    monkeypatch.setattr(provider, "refund", refund_while_another_sender_runs)
    assert refund_send(refund_id=refund.pk) == "succeeded"
    assert inner == ["not due"]
    assert ChargeRefund.objects.count() == 1


def test_retryable_error_backs_off_then_fails_for_good(shop, paid, monkeypatch, settings):
    settings.REFUND_MAX_ATTEMPTS = 3
    settings.REFUND_RETRY_BASE_SECONDS = 30
    order, _payment = paid
    line = grapes_line(order)
    refund = book(order, "30.00", line=line)
    calls = failing(monkeypatch)
    t0 = timezone.now()

    assert refund_send(refund_id=refund.pk, now=t0) == "retry"
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED
    assert (refund.attempts, refund.last_error) == (1, "gateway timeout")
    assert refund.next_attempt_at == t0 + timedelta(seconds=30)
    assert reload(order).refunded_total == Decimal("30.00")  # still promised

    assert refund_send(refund_id=refund.pk, now=t0 + timedelta(seconds=29)) == "not due"
    t1 = t0 + timedelta(seconds=30)
    assert refund_send(refund_id=refund.pk, now=t1) == "retry"
    refund.refresh_from_db()
    assert refund.attempts == 2
    assert refund.next_attempt_at == t1 + timedelta(seconds=60)  # doubled

    assert refund_send(refund_id=refund.pk, now=refund.next_attempt_at) == "failed"
    assert calls == [refund.refund_number] * 3
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert refund.attempts == 3
    assert refund.last_error == "gateway timeout"
    assert reload(order).refunded_total == Decimal("0.00")
    assert OrderLine.objects.get(pk=line.pk).refunded_amount == Decimal("0.00")
    assert changes(refund, "fail").get().reason == "gateway timeout"
    for user in (shop.member, shop.leader):
        notice = notices(user, "order_refund_failed", order).get()
        assert notice.context["error"] == "gateway timeout"
        assert notice.context["amount"] == "30.00"
    assert not notices(shop.member, "order_refunded").exists()


def test_non_retryable_error_fails_at_once(shop, paid, monkeypatch, settings):
    settings.REFUND_MAX_ATTEMPTS = 6
    order, _payment = paid
    refund = book(order, TOTAL)
    failing(monkeypatch, retryable=False, message="account closed")
    assert refund_send(refund_id=refund.pk) == "failed"
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.last_error) == (
        RefundStatus.FAILED,
        1,
        "account closed",
    )
    assert reload(order).refunded_total == Decimal("0.00")
    assert notices(shop.leader, "order_refund_failed", order).count() == 1


def test_gateway_refuses_a_charge_it_never_collected(shop):
    order = shop.order()
    pay(order, settle_at_gateway=False)  # our record says paid; the gateway does not
    refund = book(reload(order), TOTAL)
    assert refund_send(refund_id=refund.pk) == "failed"
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert "not paid" in refund.last_error
    assert not ChargeRefund.objects.exists()


def test_failing_twice_undoes_the_booking_once(shop, paid):
    order, _payment = paid
    book(order, "10.00")
    refund = book(order, "20.00")
    refund_fail(refund_id=refund.pk, error="refused")
    refund_fail(refund_id=refund.pk, error="refused again")
    assert reload(order).refunded_total == Decimal("10.00")
    assert Refund.objects.get(pk=refund.pk).last_error == "refused"
    assert notices(shop.member, "order_refund_failed").count() == 1


def test_a_sent_refund_cannot_fail_afterwards(paid):
    order, _payment = paid
    refund = book(order, TOTAL)
    refund_send(refund_id=refund.pk)
    refund_fail(refund_id=refund.pk, error="late error")
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.SUCCEEDED
    assert reload(order).refunded_total == TOTAL


# The retry sweep


def test_retry_sweep_queues_only_due_requested_refunds(paid, monkeypatch):
    order, _payment = paid
    now = timezone.now()
    due, later, failed, done = (book(order, "5.00") for _ in range(4))
    Refund.objects.filter(pk=due.pk).update(next_attempt_at=now - timedelta(seconds=1))
    Refund.objects.filter(pk=later.pk).update(next_attempt_at=now + timedelta(minutes=1))
    Refund.objects.filter(pk=failed.pk).update(
        status=RefundStatus.FAILED, next_attempt_at=now - timedelta(hours=1)
    )
    Refund.objects.filter(pk=done.pk).update(
        status=RefundStatus.SUCCEEDED, next_attempt_at=now - timedelta(hours=1)
    )
    queued = []
    monkeypatch.setattr(refund_services, "refund_queue", queued.append)
    assert refunds_retry_due(now=now) == 1
    assert queued == [due.pk]
    queued.clear()
    assert refunds_retry_due(now=now + timedelta(minutes=1)) == 2
    assert queued == [due.pk, later.pk]


def test_retry_sweep_sends_through_the_task(paid):
    """Celery is eager in tests: the sweep's queued task sends the due refund."""
    order, _payment = paid
    due = book(order, "5.00")
    later = book(order, "6.00")
    Refund.objects.filter(pk=due.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    Refund.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert refunds_retry_due() == 1
    assert Refund.objects.get(pk=due.pk).status == RefundStatus.SUCCEEDED
    assert Refund.objects.get(pk=later.pk).status == RefundStatus.REQUESTED
    assert list(ChargeRefund.objects.values_list("amount", flat=True)) == [Decimal("5.00")]
    assert reload(order).refunded_total == Decimal("11.00")

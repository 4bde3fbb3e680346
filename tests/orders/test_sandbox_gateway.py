"""The sandbox gateway on its own: charges, the hosted cashier, closing, refunds, the
signature of its notifications and their retries.

Nothing of the orders stage is involved: this is the provider's side, which the orders
tests then rely on. Notifications go to a port that is bound but never listens, so a
connection is refused at once, as from a merchant that is down.
"""

import socket
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.providers.base import CLOSED, FAILED, OPEN, PAID, ProviderError
from sandboxpay import gateway, signing
from sandboxpay.models import Charge, ChargeRefund, ChargeStatus
from sandboxpay.provider import SandboxProvider
from sandboxpay.tasks import send_notification

pytestmark = pytest.mark.django_db

RETURN_URL = "http://testserver/m/orders/T1/"


@pytest.fixture(autouse=True)
def _eager_tasks(monkeypatch):
    """The resend sweep sends in-process, whatever the caller's environment says."""
    from groupbuy.celery import app

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture
def dead_url():
    """A notify URL on a port bound by this test and never listening: refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/payments/notify/sandbox/"
    finally:
        sock.close()


def open_charge(trade_number="T1", amount="100.00", notify_url="http://127.0.0.1:9/n/"):
    return gateway.charge_open(
        trade_number=trade_number,
        amount=Decimal(amount),
        description="Tuangou order T1",
        notify_url=notify_url,
        return_url=RETURN_URL,
    )


def paid_charge(**kw) -> Charge:
    charge = open_charge(**kw)
    return gateway.charge_settle(token=charge.token, paid=True)


# --- Opening a charge -------------------------------------------------------------------


def test_charge_open_is_idempotent_by_trade_number():
    first = open_charge()
    again = open_charge()
    assert again.pk == first.pk
    assert again.token == first.token
    assert Charge.objects.count() == 1
    assert first.status == ChargeStatus.OPEN


def test_charge_open_refuses_a_reused_trade_number_with_another_amount():
    open_charge(amount="100.00")
    with pytest.raises(ProviderError, match="another amount") as error:
        open_charge(amount="100.01")
    assert error.value.retryable is False
    assert Charge.objects.get().amount == Decimal("100.00")


@pytest.mark.parametrize("amount", ["0.00", "-1.00"])
def test_charge_open_refuses_a_non_positive_amount(amount):
    with pytest.raises(ProviderError) as error:
        open_charge(amount=amount)
    assert error.value.retryable is False
    assert not Charge.objects.exists()


def test_the_provider_client_returns_the_cashier_address(settings):
    settings.SITE_URL = "https://shop.example"
    checkout = SandboxProvider().create_payment(
        trade_number="T9",
        amount=Decimal("12.50"),
        description="d",
        notify_url="https://shop.example/n/",
        return_url=RETURN_URL,
    )
    charge = Charge.objects.get(trade_number="T9")
    assert checkout.pay_url == "https://shop.example" + reverse(
        "sandboxpay:cashier", args=[charge.token]
    )


# --- The cashier page -------------------------------------------------------------------


def test_cashier_page_shows_the_amount_and_both_buttons(client):
    charge = open_charge(amount="12.50")
    response = client.get(reverse("sandboxpay:cashier", args=[charge.token]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="cashier-amount">¥12.50<' in html
    assert 'data-testid="cashier-pay"' in html
    assert 'data-testid="cashier-fail"' in html


def test_cashier_unknown_token_is_404(client):
    assert client.get(reverse("sandboxpay:cashier", args=["nope"])).status_code == 404


def test_cashier_pay_settles_once_and_redirects_to_the_return_url(
    client, django_capture_on_commit_callbacks
):
    charge = open_charge()
    url = reverse("sandboxpay:cashier", args=[charge.token])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, {"outcome": "pay"})
    assert response.status_code == 302
    assert response["Location"] == RETURN_URL
    assert len(callbacks) == 1  # the notification, queued after commit
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID
    settled_at = charge.settled_at
    assert settled_at is not None
    assert charge.next_notify_at == settled_at

    # A second tap (or a replayed form) changes nothing and queues nothing.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, {"outcome": "fail"})
    assert response.status_code == 200
    assert 'data-testid="cashier-pay"' not in response.content.decode()
    assert 'data-testid="cashier-status"' in response.content.decode()
    assert callbacks == []
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID
    assert charge.settled_at == settled_at


def test_cashier_fail_settles_as_failed(client):
    charge = open_charge()
    url = reverse("sandboxpay:cashier", args=[charge.token])
    response = client.post(url, {"outcome": "fail"})
    assert response.status_code == 302
    assert response["Location"] == RETURN_URL
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED
    client.post(url, {"outcome": "pay"})
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED


def test_settling_twice_through_the_gateway_keeps_the_first_outcome():
    charge = paid_charge()
    again = gateway.charge_settle(token=charge.token, paid=False)
    assert again.status == ChargeStatus.PAID
    assert again.settled_at == charge.settled_at


# --- Query and close --------------------------------------------------------------------


def test_query_reports_the_charge():
    charge = open_charge()
    report = gateway.charge_query(trade_number="T1")
    assert (report.outcome, report.amount, report.provider_reference) == (
        OPEN,
        Decimal("100.00"),
        charge.reference,
    )
    gateway.charge_settle(token=charge.token, paid=True)
    report = gateway.charge_query(trade_number="T1")
    assert report.outcome == PAID
    assert report.settled_at is not None


@pytest.mark.parametrize("call", [gateway.charge_query, gateway.charge_close])
def test_query_and_close_of_an_unknown_trade_are_refused_for_good(call):
    with pytest.raises(ProviderError) as error:
        call(trade_number="nope")
    assert error.value.retryable is False


def test_close_of_an_open_charge_closes_it_and_it_can_no_longer_be_paid(client):
    charge = open_charge()
    report = gateway.charge_close(trade_number="T1")
    assert report.outcome == CLOSED
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.CLOSED
    response = client.post(reverse("sandboxpay:cashier", args=[charge.token]), {"outcome": "pay"})
    assert response.status_code == 200
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.CLOSED
    assert gateway.charge_close(trade_number="T1").outcome == CLOSED


def test_close_of_a_paid_charge_leaves_it_paid_and_says_so():
    paid_charge()
    report = gateway.charge_close(trade_number="T1")
    assert report.outcome == PAID
    assert Charge.objects.get().status == ChargeStatus.PAID


def test_close_of_a_failed_charge_closes_it():
    charge = open_charge()
    gateway.charge_settle(token=charge.token, paid=False)
    assert gateway.charge_query(trade_number="T1").outcome == FAILED
    assert gateway.charge_close(trade_number="T1").outcome == CLOSED


# --- Refunds ----------------------------------------------------------------------------


def refund(number, amount, trade_number="T1"):
    return gateway.charge_refund(
        trade_number=trade_number, refund_number=number, amount=Decimal(amount), reason="r"
    )


def test_refunds_are_idempotent_by_number_and_never_exceed_the_paid_amount():
    charge = paid_charge(amount="100.00")
    first = refund("R1", "30.00")
    assert refund("R1", "30.00").pk == first.pk  # the same request again: nothing new
    refund("R2", "70.00")
    assert charge.refunded == Decimal("100.00")
    with pytest.raises(ProviderError, match="exceeds") as error:
        refund("R3", "0.01")
    assert error.value.retryable is False
    assert sorted(ChargeRefund.objects.values_list("refund_number", flat=True)) == ["R1", "R2"]
    # Repeating an accepted refund still answers with it, even with the charge used up.
    assert refund("R2", "70.00").refund_number == "R2"


def test_a_refund_above_the_paid_amount_is_refused_at_once():
    paid_charge(amount="10.00")
    with pytest.raises(ProviderError, match="exceeds") as error:
        refund("R1", "10.01")
    assert error.value.retryable is False
    assert not ChargeRefund.objects.exists()


@pytest.mark.parametrize("amount", ["0.00", "-5.00"])
def test_a_non_positive_refund_is_refused(amount):
    paid_charge()
    with pytest.raises(ProviderError) as error:
        refund("R1", amount)
    assert error.value.retryable is False
    assert not ChargeRefund.objects.exists()


def test_a_refund_number_reused_differently_is_refused():
    paid_charge()
    open_charge(trade_number="T2")
    refund("R1", "30.00")
    with pytest.raises(ProviderError, match="reused") as error:
        refund("R1", "31.00")
    assert error.value.retryable is False
    with pytest.raises(ProviderError, match="reused"):
        refund("R1", "30.00", trade_number="T2")
    assert ChargeRefund.objects.count() == 1


@pytest.mark.parametrize("settle", [None, "failed", "closed"])
def test_a_refund_of_an_unpaid_charge_is_refused_for_good(settle):
    charge = open_charge()
    if settle == "failed":
        gateway.charge_settle(token=charge.token, paid=False)
    elif settle == "closed":
        gateway.charge_close(trade_number="T1")
    with pytest.raises(ProviderError, match="not paid") as error:
        refund("R1", "1.00")
    assert error.value.retryable is False
    with pytest.raises(ProviderError, match="no such trade"):
        refund("R2", "1.00", trade_number="nope")
    assert not ChargeRefund.objects.exists()


def test_the_provider_client_refund_answers_with_the_gateway_reference():
    paid_charge()
    receipt = SandboxProvider().refund(
        trade_number="T1", refund_number="R1", amount=Decimal("5.00"), reason="r"
    )
    assert receipt.refund_number == "R1"
    assert receipt.provider_reference == ChargeRefund.objects.get().reference


# --- Signatures -------------------------------------------------------------------------

BODY = b'{"trade_number":"T1","status":"paid","amount":"100.00"}'


def test_a_signature_verifies_for_its_body():
    header = signing.sign(BODY, timestamp=1700000000)
    assert header.startswith("t=1700000000,v1=")
    assert signing.verify(BODY, header)


def test_verify_rejects_a_tampered_body():
    header = signing.sign(BODY)
    assert not signing.verify(BODY.replace(b"100.00", b"1.00"), header)
    assert not signing.verify(BODY + b" ", header)


def test_verify_rejects_another_secret(settings):
    settings.SANDBOX_PAY_SECRET = "someone-else"
    forged = signing.sign(BODY)
    settings.SANDBOX_PAY_SECRET = "the-real-one"
    assert not signing.verify(BODY, forged)
    assert signing.verify(BODY, signing.sign(BODY))


def test_verify_rejects_a_moved_timestamp():
    header = signing.sign(BODY, timestamp=1700000000)
    digest = header.split("v1=", 1)[1]
    assert not signing.verify(BODY, f"t=1700000001,v1={digest}")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=1700000000",
        "v1=abc",
        "t=,v1=abc",
        "t=abc,v1=abc",
        "t=-1,v1=abc",
        "t=1700000000,v1=",
        "t=1700000000,v1=zz",
        # Non-ASCII, as a header decoded from latin-1 can carry: refused, never a crash.
        "t=\u00b2,v1=abc",
        "t=1700000000,v1=\u00e9\u00e9",
    ],
)
def test_verify_rejects_a_malformed_header(header):
    assert signing.verify(BODY, header) is False


# --- Notification retries ---------------------------------------------------------------


def test_notification_retries_back_off_and_stop_after_the_last(dead_url):
    charge = paid_charge(notify_url=dead_url)
    for attempt, delay in enumerate(gateway.NOTIFY_BACKOFF_SECONDS, start=1):
        before = timezone.now()
        send_notification(charge.pk)
        after = timezone.now()
        charge.refresh_from_db()
        assert charge.notify_attempts == attempt
        assert charge.notified_at is None
        assert charge.last_notify_error
        expected = timedelta(seconds=delay)
        assert before + expected <= charge.next_notify_at <= after + expected

    send_notification(charge.pk)  # the last try
    charge.refresh_from_db()
    assert charge.notify_attempts == len(gateway.NOTIFY_BACKOFF_SECONDS) + 1
    assert charge.next_notify_at is None  # given up
    assert charge.notified_at is None
    assert "refused" in charge.last_notify_error.lower()
    assert gateway.notifications_resend_due() == 0


def test_only_due_unanswered_notifications_are_resent(dead_url):
    due = paid_charge(trade_number="T1", notify_url=dead_url)
    later = paid_charge(trade_number="T2", notify_url=dead_url)
    answered = paid_charge(trade_number="T3", notify_url=dead_url)
    never_settled = open_charge(trade_number="T4", notify_url=dead_url)
    now = timezone.now()
    Charge.objects.filter(pk=due.pk).update(next_notify_at=now - timedelta(seconds=1))
    Charge.objects.filter(pk=later.pk).update(next_notify_at=now + timedelta(minutes=5))
    Charge.objects.filter(pk=answered.pk).update(
        next_notify_at=now - timedelta(seconds=1), notified_at=now
    )

    assert gateway.notifications_resend_due() == 1  # eager: sent (and refused) at once
    due.refresh_from_db()
    assert due.notify_attempts == 1
    assert due.next_notify_at > now
    for other in (later, answered, never_settled):
        other.refresh_from_db()
        assert other.notify_attempts == 0


def test_an_answered_notification_is_not_sent_again(dead_url):
    charge = paid_charge(notify_url=dead_url)
    gateway.notification_delivered(charge_id=charge.pk)
    send_notification(charge.pk)
    charge.refresh_from_db()
    assert charge.notify_attempts == 0
    assert charge.notified_at is not None
    assert charge.next_notify_at is None


def test_the_notification_body_is_what_the_merchant_parses():
    charge = paid_charge(amount="88.80")
    body = gateway.notification_body(charge)
    report = SandboxProvider().parse_notification(
        body=body, headers={signing.HEADER: signing.sign(body)}
    )
    assert report.trade_number == "T1"
    assert report.outcome == PAID
    assert report.amount == Decimal("88.80")
    assert report.provider_reference == charge.reference
    assert report.settled_at == charge.settled_at

"""Payment notifications over real HTTP: pytest-django's ``live_server`` is our site, the
sandbox gateway (in this process) is the provider, and every notification is a real POST.

A notification is posted exactly as ``sandboxpay.tasks.send_notification`` does it: the
gateway's own body (``gateway.notification_body``) with the ``X-Sandbox-Signature`` header
from ``sandboxpay.signing.sign``. Each case checks the HTTP answer and then the database:
order, payment, stock, refunds, the notification log and the member's notices.

Late payments need a charge that the gateway took while our order had already ended; in
production that happens when closing the charge never reached the gateway. Here the
Celery broker is down (a port bound by the test and never listening) while the order
ends and while the member pays, so neither the close nor the gateway's notification is
queued; the test then posts the notification itself, and the gateway's own resend sweep
delivers its copy afterwards (a duplicate).
"""

import contextlib
import http.server
import json
import re
import socket
import socketserver
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from groupbuy.models import StateChange
from notifications.models import Notification
from orders.models import (
    Order,
    OrderStatus,
    Payment,
    PaymentNotification,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from orders.services.ordering import order_cancel, order_expire_if_due
from orders.services.payments import payment_start
from sandboxpay import gateway, signing
from sandboxpay.models import Charge, ChargeRefund, ChargeStatus
from scheduling.models import ScheduleItem
from tests.notifications.realinfra import celery_publishing_to
from tests.orders.conftest import make_shop

pytestmark = pytest.mark.django_db(transaction=True)

HTTP_TIMEOUT = 20


# --- Fixtures and helpers ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def _eager_tasks(monkeypatch):
    """Tasks run in-process whatever the caller's environment says; only ``broker_down``
    blocks try (and fail) to publish."""
    from groupbuy.celery import app

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture
def site(live_server, settings):
    """Our site over HTTP; absolute URLs (notify, cashier, return) point at it."""
    settings.SITE_URL = live_server.url
    return live_server.url


@contextlib.contextmanager
def _bound_port():
    """A port bound by this test and never listening: connections are refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@contextlib.contextmanager
def broker_down():
    """Celery publishes to a broker that refuses connections: nothing gets queued."""
    with _bound_port() as port, celery_publishing_to(f"redis://127.0.0.1:{port}/0"):
        yield


def notify_url(site: str) -> str:
    return site + reverse("orders:payment_notify", args=["sandbox"])


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST like the gateway's task; returns (status, text) whatever the status."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def signed(body: bytes) -> dict[str, str]:
    return {signing.HEADER: signing.sign(body)}


def body_for(payment: Payment, status: str = "paid", *, amount: str | None = None) -> bytes:
    """The gateway's notification body for ``payment`` reporting ``status``."""
    charge = Charge.objects.get(trade_number=payment.trade_number)
    charge.status = status
    charge.settled_at = charge.settled_at or timezone.now()
    if amount is not None:
        charge.amount = Decimal(amount)
    return gateway.notification_body(charge)


def send(site: str, body: bytes) -> tuple[int, str]:
    return post(notify_url(site), body, signed(body))


def fresh(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def notices(user, kind: str) -> int:
    return Notification.objects.filter(recipient=user, kind=kind).count()


def transitions(subject, name: str) -> int:
    return StateChange.objects.filter(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        transition=name,
    ).count()


def log_outcomes(payment: Payment) -> list[str]:
    return list(
        PaymentNotification.objects.filter(trade_number=payment.trade_number)
        .order_by("pk")
        .values_list("outcome", flat=True)
    )


def state(order: Order) -> dict:
    """Everything a refused notification must leave as it was."""
    order = fresh(order)
    return {
        "order": (order.status, order.paid_at, order.refunded_total),
        "payments": sorted(
            order.payments.values_list("trade_number", "status", "provider_reference")
        ),
        "reserved": sorted(
            ScheduleItem.objects.filter(schedule=order.schedule_id).values_list(
                "pk", "reserved_qty"
            )
        ),
        "refunds": Refund.objects.count(),
        "notices": Notification.objects.count(),
        "changes": StateChange.objects.count(),
    }


def placed(shop, member=None, *, quantities=None) -> tuple[Order, Payment]:
    """An online order waiting for its payment, opened at the sandbox."""
    member = member or shop.member
    order = shop.order(member, quantities=quantities or {shop.grapes.pk: 2})
    payment = payment_start(order=order, member=member)
    assert payment.status == PaymentStatus.PENDING
    return order, payment


def reserved(item) -> int:
    return ScheduleItem.objects.get(pk=item.pk).reserved_qty


# --- A valid notification ---------------------------------------------------------------


def test_paid_notification_marks_the_order_paid_and_tells_the_member(site):
    shop = make_shop()
    order, payment = placed(shop)
    assert payment.pay_url.startswith(site)

    status, text = send(site, body_for(payment))

    assert (status, text) == (200, "success")
    order = fresh(order)
    payment.refresh_from_db()
    charge = Charge.objects.get(trade_number=payment.trade_number)
    assert order.status == OrderStatus.PAID
    assert order.paid_at is not None
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.provider_reference == charge.reference
    assert reserved(shop.grapes) == 2
    assert not Refund.objects.exists()
    log = PaymentNotification.objects.get()
    assert (log.trade_number, log.verified, log.outcome) == (payment.trade_number, True, "paid")
    assert notices(shop.member, "order_paid") == 1


def test_unknown_provider_and_get_are_refused(site):
    status, _text = post(site + reverse("orders:payment_notify", args=["nope"]), b"{}", {})
    assert status == 400
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(notify_url(site), timeout=HTTP_TIMEOUT)
    assert error.value.code == 405
    assert not PaymentNotification.objects.exists()


# --- Refused notifications: 400 and nothing changes --------------------------------------


def _other_secret(body: bytes) -> dict[str, str]:
    import hashlib
    import hmac
    import time

    stamp = int(time.time())
    digest = hmac.new(b"not-our-secret", f"{stamp}.".encode() + body, hashlib.sha256)
    return {signing.HEADER: f"t={stamp},v1={digest.hexdigest()}"}


FORGERIES = {
    "wrong secret": lambda body: (body, _other_secret(body)),
    "tampered body": lambda body: (body.replace(b'"paid"', b'"failed"'), signed(body)),
    "tampered amount": lambda body: (body.replace(b'"30.00"', b'"0.01"'), signed(body)),
    "missing header": lambda body: (body, {}),
    "empty header": lambda body: (body, {signing.HEADER: ""}),
    "header without digest": lambda body: (body, {signing.HEADER: "t=1700000000"}),
    "non-ascii digest": lambda body: (body, {signing.HEADER: "t=1700000000,v1=\u00e9"}),
    "non-ascii timestamp": lambda body: (body, {signing.HEADER: "t=\u00b2,v1=abc"}),
}


def test_forged_notifications_are_refused_and_change_nothing(site):
    shop = make_shop()
    order, payment = placed(shop)
    genuine = body_for(payment)
    assert b'"30.00"' in genuine and b'"paid"' in genuine
    before = state(order)

    for count, (forgery, forge) in enumerate(FORGERIES.items(), start=1):
        body, headers = forge(genuine)
        assert post(notify_url(site), body, headers) == (400, "bad signature"), forgery
        assert state(order) == before, forgery
        log = PaymentNotification.objects.order_by("pk").last()
        assert (log.verified, log.outcome, log.trade_number) == (False, "bad signature", "")
        assert PaymentNotification.objects.count() == count, forgery
    assert fresh(order).status == OrderStatus.PENDING_PAYMENT
    assert notices(shop.member, "order_paid") == 0

    # The genuine notification still goes through afterwards.
    assert send(site, genuine) == (200, "success")
    assert fresh(order).status == OrderStatus.PAID
    assert notices(shop.member, "order_paid") == 1


def test_wrong_amount_is_refused_and_changes_nothing(site):
    shop = make_shop()
    order, payment = placed(shop)
    before = state(order)

    status, text = send(site, body_for(payment, amount="0.01"))

    assert (status, text) == (400, "amount does not match the payment")
    assert state(order) == before
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert payment.provider_reference == ""
    log = PaymentNotification.objects.get()
    assert (log.verified, log.trade_number) == (True, payment.trade_number)
    assert log.outcome == "amount does not match the payment"


def test_unknown_trade_number_is_refused(site):
    shop = make_shop()
    order, payment = placed(shop)
    before = state(order)
    body = body_for(payment).replace(payment.trade_number.encode(), b"PNOSUCHTRADE")

    status, text = send(site, body)

    assert (status, text) == (400, "unknown trade number")
    assert state(order) == before
    log = PaymentNotification.objects.get()
    assert (log.verified, log.trade_number, log.outcome) == (
        True,
        "PNOSUCHTRADE",
        "unknown trade number",
    )


def test_malformed_but_signed_body_is_refused(site):
    shop = make_shop()
    order, _payment = placed(shop)
    before = state(order)
    body = b'{"status": "paid"}'
    status, text = send(site, body)
    assert status == 400
    assert text.startswith("malformed notification")
    assert state(order) == before


# --- Duplicates and order ---------------------------------------------------------------


def test_the_same_notification_twice_changes_the_order_once(site):
    shop = make_shop()
    order, payment = placed(shop)
    body = body_for(payment)
    headers = signed(body)

    first = post(notify_url(site), body, headers)
    paid = state(order)
    second = post(notify_url(site), body, headers)

    assert first == second == (200, "success")
    assert state(order) == paid
    assert fresh(order).status == OrderStatus.PAID
    assert transitions(order, "mark_paid") == 1
    assert transitions(payment, "succeed") == 1
    assert notices(shop.member, "order_paid") == 1
    assert log_outcomes(payment) == ["paid", "duplicate"]


def test_failed_arriving_after_paid_leaves_the_payment_succeeded(site):
    shop = make_shop()
    order, payment = placed(shop)

    assert send(site, body_for(payment, "paid")) == (200, "success")
    paid = state(order)
    assert send(site, body_for(payment, "failed")) == (200, "success")

    assert state(order) == paid
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.failure_reason == ""
    assert fresh(order).status == OrderStatus.PAID
    assert log_outcomes(payment) == ["paid", "no change"]
    assert notices(shop.member, "order_paid") == 1


def test_paid_arriving_after_failed_succeeds(site):
    shop = make_shop()
    order, payment = placed(shop)

    assert send(site, body_for(payment, "failed")) == (200, "success")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert fresh(order).status == OrderStatus.PENDING_PAYMENT
    assert notices(shop.member, "order_paid") == 0

    assert send(site, body_for(payment, "paid")) == (200, "success")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert fresh(order).status == OrderStatus.PAID
    assert reserved(shop.grapes) == 2
    assert log_outcomes(payment) == ["failed", "paid"]
    assert notices(shop.member, "order_paid") == 1


# --- Late payments ----------------------------------------------------------------------


def _expire_then_pay_at_the_gateway(order: Order, payment: Payment) -> Charge:
    """The window passes and the order expires; the close does not reach the gateway, and
    the member, whose cashier page is still open, pays there."""
    with broker_down():
        past_deadline = fresh(order).payment_deadline + timedelta(seconds=1)
        assert order_expire_if_due(order_id=order.pk, now=past_deadline, force=True)
        charge = Charge.objects.get(trade_number=payment.trade_number)
        charge = gateway.charge_settle(token=charge.token, paid=True)
    assert fresh(order).status == OrderStatus.EXPIRED
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING  # the close never reached the gateway
    assert charge.status == ChargeStatus.PAID
    assert charge.notified_at is None
    return charge


def _gateway_resends_its_copy(charge: Charge) -> None:
    """The gateway's own notification, delivered by its resend sweep, is a duplicate."""
    assert gateway.notifications_resend_due() == 1
    charge.refresh_from_db()
    assert charge.notified_at is not None
    assert charge.notify_attempts == 0
    assert gateway.notifications_resend_due() == 0


def test_paid_after_expiry_reinstates_the_order_when_stock_allows(site):
    shop = make_shop()
    order, payment = placed(shop)
    assert reserved(shop.grapes) == 2
    charge = _expire_then_pay_at_the_gateway(order, payment)
    assert reserved(shop.grapes) == 0  # the expiry released the stock

    status, text = send(site, gateway.notification_body(charge))

    assert (status, text) == (200, "success")
    order = fresh(order)
    payment.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.paid_at == charge.settled_at
    assert payment.status == PaymentStatus.SUCCEEDED
    assert reserved(shop.grapes) == 2  # reserved again
    assert transitions(order, "reinstate") == 1
    assert not Refund.objects.exists()
    assert notices(shop.member, "order_paid") == 1
    assert log_outcomes(payment) == ["reinstated"]

    paid = state(order)
    _gateway_resends_its_copy(charge)
    assert state(order) == paid
    assert log_outcomes(payment) == ["reinstated", "duplicate"]


def test_paid_after_expiry_with_the_stock_gone_is_refunded_in_full(site):
    shop = make_shop(grapes={"quantity_cap": 3, "per_member_limit": 3})
    order, payment = placed(shop)
    charge = _expire_then_pay_at_the_gateway(order, payment)
    # Meanwhile another member bought what was left.
    other = shop.new_member()
    shop.order(other, quantities={shop.grapes.pk: 3})
    assert reserved(shop.grapes) == 3

    status, text = send(site, gateway.notification_body(charge))

    assert (status, text) == (200, "success")
    order = fresh(order)
    payment.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert order.paid_at is None
    assert order.refunded_total == Decimal("0.00")  # the money was never the order's
    assert payment.status == PaymentStatus.SUCCEEDED
    assert reserved(shop.grapes) == 3  # never above the cap
    refund = Refund.objects.get()
    assert refund.payment_id == payment.pk
    assert refund.amount == payment.amount == Decimal("30.00")
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.booked_on_order is False
    # Written while serving the provider's request, in whatever language that request had.
    assert refund.reason in _in_both_languages(
        "Paid after the order expired and the items were gone"
    )
    charge_refund = ChargeRefund.objects.get()
    assert charge_refund.charge_id == charge.pk
    assert charge_refund.refund_number == refund.refund_number
    assert charge_refund.amount == charge.amount
    assert refund.provider_reference == charge_refund.reference
    assert notices(shop.member, "order_refunded") == 1
    assert notices(shop.member, "order_paid") == 0
    assert notices(shop.member, "order_refund_failed") == 0
    assert log_outcomes(payment) == ["refunded"]

    refunded = state(order)
    _gateway_resends_its_copy(charge)
    assert state(order) == refunded
    assert ChargeRefund.objects.count() == 1
    assert log_outcomes(payment) == ["refunded", "duplicate"]


def test_paid_notification_for_a_cancelled_order_is_refunded(site):
    shop = make_shop()
    order, payment = placed(shop)
    with broker_down():
        order_cancel(order=order, actor=shop.member, reason="changed my mind")
        charge = Charge.objects.get(trade_number=payment.trade_number)
        charge = gateway.charge_settle(token=charge.token, paid=True)
    assert fresh(order).status == OrderStatus.CANCELLED
    assert reserved(shop.grapes) == 0

    status, text = send(site, gateway.notification_body(charge))

    assert (status, text) == (200, "success")
    order = fresh(order)
    payment.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert payment.status == PaymentStatus.SUCCEEDED
    assert reserved(shop.grapes) == 0
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (payment.amount, RefundStatus.SUCCEEDED)
    assert refund.reason in _in_both_languages("Paid after the order was cancelled")
    assert ChargeRefund.objects.get().amount == charge.amount
    assert notices(shop.member, "order_refunded") == 1
    assert notices(shop.member, "order_paid") == 0
    assert log_outcomes(payment) == ["refunded"]


# --- The sandbox end to end -------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_paying_in_the_sandbox_cashier_over_http_pays_the_order(site):
    shop = make_shop()
    order, payment = placed(shop, quantities={shop.grapes.pk: 2, shop.eggs.pk: 1})
    assert payment.amount == Decimal("59.90")
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(), _NoRedirect())

    with browser.open(payment.pay_url, timeout=HTTP_TIMEOUT) as response:
        page = response.read().decode()
    assert 'data-testid="cashier-amount">¥59.90<' in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "outcome": "pay"}).encode()
    # The gateway settles, then (eagerly, after its commit) POSTs the signed notification
    # to our notify URL over HTTP before the cashier answers with its redirect.
    with pytest.raises(urllib.error.HTTPError) as redirect:
        browser.open(payment.pay_url, data=form, timeout=HTTP_TIMEOUT)
    assert redirect.value.code == 302
    return_url = site + reverse("orders:member_order", args=[order.number])
    assert redirect.value.headers["Location"] == return_url

    charge = Charge.objects.get(trade_number=payment.trade_number)
    assert charge.status == ChargeStatus.PAID
    assert charge.notified_at is not None
    assert (charge.notify_attempts, charge.last_notify_error) == (0, "")
    order = fresh(order)
    payment.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert payment.status == PaymentStatus.SUCCEEDED
    assert log_outcomes(payment) == ["paid"]
    assert notices(shop.member, "order_paid") == 1
    assert (reserved(shop.grapes), reserved(shop.eggs)) == (2, 1)


class _Relay(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """Our site at another address: bound now (connections refused), serving on start()."""

    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, target: str):
        super().__init__(("127.0.0.1", 0), _RelayHandler, bind_and_activate=False)
        socketserver.TCPServer.server_bind(self)  # no reverse DNS lookup
        self.server_name, self.server_port = self.server_address[:2]
        self.target = target
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def start(self) -> None:
        self.server_activate()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.shutdown()
            self.thread.join(timeout=10)
        self.server_close()


class _RelayHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {
            name: self.headers[name]
            for name in ("Content-Type", signing.HEADER)
            if self.headers.get(name) is not None
        }
        status, text = post(self.server.target + self.path, body, headers)
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_a_notification_to_a_merchant_that_is_down_is_resent_later(site, settings, client):
    relay = _Relay(site)
    try:
        settings.SITE_URL = relay.url  # our address, but nothing answers there yet
        shop = make_shop()
        order, payment = placed(shop)
        charge = Charge.objects.get(trade_number=payment.trade_number)
        assert charge.notify_url.startswith(relay.url)

        # The member pays in the cashier; the gateway's POST is refused.
        response = client.post(
            reverse("sandboxpay:cashier", args=[charge.token]), {"outcome": "pay"}
        )
        assert response.status_code == 302
        charge.refresh_from_db()
        assert charge.status == ChargeStatus.PAID
        assert charge.notify_attempts == 1
        assert charge.notified_at is None
        assert "refused" in charge.last_notify_error.lower()
        first_delay = timedelta(seconds=gateway.NOTIFY_BACKOFF_SECONDS[0])
        assert charge.settled_at + first_delay <= charge.next_notify_at
        assert charge.next_notify_at <= timezone.now() + first_delay
        assert fresh(order).status == OrderStatus.PENDING_PAYMENT
        assert not PaymentNotification.objects.exists()
        assert gateway.notifications_resend_due() == 0  # not due yet

        relay.start()  # we are back
        Charge.objects.filter(pk=charge.pk).update(  # the back-off has passed
            next_notify_at=timezone.now() - timedelta(seconds=1)
        )
        assert gateway.notifications_resend_due() == 1
    finally:
        relay.stop()

    charge.refresh_from_db()
    assert charge.notified_at is not None
    assert charge.next_notify_at is None
    assert charge.notify_attempts == 1
    assert fresh(order).status == OrderStatus.PAID
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert log_outcomes(payment) == ["paid"]
    assert notices(shop.member, "order_paid") == 1
    assert gateway.notifications_resend_due() == 0


def test_a_notification_we_refuse_stays_unanswered_at_the_gateway(site, client):
    """A charge that disagrees with our payment (a gateway bug): the gateway's own POST
    is answered 400, it keeps the notification for a later try, and nothing changes."""
    shop = make_shop()
    order, payment = placed(shop)
    charge = Charge.objects.get(trade_number=payment.trade_number)
    Charge.objects.filter(pk=charge.pk).update(amount=Decimal("0.01"))
    before = state(order)

    response = client.post(reverse("sandboxpay:cashier", args=[charge.token]), {"outcome": "pay"})

    assert response.status_code == 302
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID
    assert (charge.notify_attempts, charge.notified_at) == (1, None)
    assert "400" in charge.last_notify_error
    assert charge.next_notify_at > timezone.now()
    assert state(order) == before
    assert log_outcomes(payment) == ["amount does not match the payment"]


def test_log_keeps_the_body_as_received(site):
    shop = make_shop()
    _order, payment = placed(shop)
    body = body_for(payment)
    send(site, body)
    log = PaymentNotification.objects.get()
    assert json.loads(log.body) == json.loads(body)


def _in_both_languages(message: str) -> set[str]:
    from django.utils import translation

    variants = set()
    for language in ("en", "zh-hans"):
        with translation.override(language):
            variants.add(translation.gettext(message))
    return variants

"""Reviews and after-sales (fulfillment/services/aftersales.py): only collected lines of
one's own orders, once per line, 1-5 stars and up to 3 real photos; after-sales requests
within the window and up to what is still claimable, decided by the leader (or by staff
once escalated); an approved request is refunded, and becomes "refunded" when the money
is back (or at once for an order paid in cash at pickup)."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_fsm import TransitionNotAllowed
from PIL import Image

from fulfillment.models import (
    AfterSalesPhoto,
    AfterSalesRequest,
    AfterSalesStatus,
    Review,
    ReviewPhoto,
)
from fulfillment.services import aftersales, pickup
from groupbuy.exceptions import DomainError
from notifications.models import Notification
from orders.models import OrderLine, PaymentMethod, Refund, RefundStatus
from sandboxpay.models import ChargeRefund
from tests.factories import CommunityFactory, StaffFactory, UserFactory
from tests.fulfillment.conftest import Round
from tests.fulfillment.test_allocation import build_round, grapes_line
from tests.orders.conftest import make_shop
from tests.orders.test_ordering_services import changes, reload

pytestmark = pytest.mark.django_db

AS = AfterSalesStatus
GRAPES = Decimal("15.00")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def photo(name: str = "p.png", fmt: str = "PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def not_an_image() -> SimpleUploadedFile:
    return SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png")


def collected(capture, carts=None, *, missing=None, **shop_kwargs) -> Round:
    """Goods received (``missing`` grapes=(short, damaged)) and every order handed over."""
    shop = make_shop(**shop_kwargs)
    round_ = build_round(carts or [{"grapes": 2, "eggs": 1}, {"grapes": 2, "eggs": 1}], shop=shop)
    with capture(execute=True):
        round_.receive(**(missing or {}))
    for order in round_.orders:
        pickup.pickup_hand_over(order=order, actor=shop.leader, settled=True)
    round_.orders = [reload(order) for order in round_.orders]
    return round_


@pytest.fixture
def picked(django_capture_on_commit_callbacks) -> Round:
    return collected(django_capture_on_commit_callbacks)


def submit(line: OrderLine, member=None, **kwargs):
    fields = {
        "member": member or line.order.member,
        "order_line": line,
        "reason": "quality",
        "description": "  Two grapes were mouldy  ",
        "amount": Decimal("5.00"),
    }
    fields.update(kwargs)
    return aftersales.after_sales_submit(**fields)


def member_notices(user, kind: str):
    return Notification.objects.filter(recipient=user, kind=kind)


# Reviews


def test_review_a_collected_line(picked):
    line = grapes_line(picked.orders[0])
    review = aftersales.review_create(
        member=line.order.member,
        order_line=line,
        rating=5,
        text="  Sweet and crisp  ",
        photos=[photo("a.png"), photo("b.jpg", "JPEG")],
    )
    assert (review.order_line, review.member, review.rating, review.text) == (
        line,
        line.order.member,
        5,
        "Sweet and crisp",
    )
    assert review.offer == picked.shop.grapes.offer
    names = [p.image.name for p in ReviewPhoto.objects.filter(review=review)]
    assert len(names) == 2
    assert names[0].startswith("reviews/") and names[0].endswith(".png")
    assert names[1].endswith(".jpg")


def test_review_once_per_line(picked):
    line = grapes_line(picked.orders[0])
    aftersales.review_create(member=line.order.member, order_line=line, rating=4)
    with pytest.raises(DomainError, match="already reviewed"):
        aftersales.review_create(member=line.order.member, order_line=line, rating=2)
    assert Review.objects.get().rating == 4


@pytest.mark.parametrize("rating", [0, 6, -1, "5", 3.5, None])
def test_review_rating_is_one_to_five_stars(picked, rating):
    line = grapes_line(picked.orders[0])
    with pytest.raises(DomainError, match="Give 1 to 5 stars") as error:
        aftersales.review_create(member=line.order.member, order_line=line, rating=rating)
    assert error.value.field == "rating"
    assert not Review.objects.exists()


@pytest.mark.parametrize("rating", [1, 5])
def test_review_rating_bounds_are_allowed(picked, rating):
    line = grapes_line(picked.orders[0])
    assert aftersales.review_create(member=line.order.member, order_line=line, rating=rating)


def test_review_photos_at_most_three_and_real(picked):
    line = grapes_line(picked.orders[0])
    member = line.order.member
    with pytest.raises(DomainError, match="At most 3 photos") as error:
        aftersales.review_create(
            member=member, order_line=line, rating=3, photos=[photo() for _ in range(4)]
        )
    assert error.value.field == "photos"
    with pytest.raises(DomainError, match="not an image we can use") as error:
        aftersales.review_create(
            member=member, order_line=line, rating=3, photos=[photo(), not_an_image()]
        )
    assert error.value.field == "photos"
    assert not Review.objects.exists() and not ReviewPhoto.objects.exists()
    review = aftersales.review_create(
        member=member, order_line=line, rating=3, photos=[photo() for _ in range(3)]
    )
    assert review.photos.count() == 3


def test_review_only_ones_own_collected_line(picked, django_capture_on_commit_callbacks):
    line = grapes_line(picked.orders[0])
    for stranger in (picked.orders[1].member, picked.shop.leader, UserFactory()):
        with pytest.raises(DomainError, match="This is not your order"):
            aftersales.review_create(member=stranger, order_line=line, rating=5)
    waiting = build_round([{"grapes": 1}])
    with django_capture_on_commit_callbacks(execute=True):
        waiting.receive()
    order = reload(waiting.orders[0])  # ready, not collected
    with pytest.raises(DomainError, match="once you have collected"):
        aftersales.review_create(member=order.member, order_line=grapes_line(order), rating=5)
    assert not Review.objects.exists()


def test_review_after_completion(picked):
    order = pickup.order_confirm_receipt(order=picked.orders[0], member=picked.orders[0].member)
    line = grapes_line(order)
    assert aftersales.review_create(member=order.member, order_line=line, rating=4)


# Submitting an after-sales request


def test_submit_within_the_window_tells_the_leader(picked):
    line = grapes_line(picked.orders[0])
    request = submit(line, amount=Decimal("7.50"), photos=[photo()])
    assert request.status == AS.SUBMITTED
    assert re.fullmatch(r"AS\d{12}", request.number)
    assert (request.order, request.order_line, request.member, request.community) == (
        line.order,
        line,
        line.order.member,
        line.order.community,
    )
    assert (request.reason, request.description, request.requested_amount) == (
        "quality",
        "Two grapes were mouldy",
        Decimal("7.50"),
    )
    assert AfterSalesPhoto.objects.get(request=request).image.name.startswith("after-sales/")
    assert changes(request, "submit").get().actor == line.order.member
    notice = member_notices(picked.shop.leader, "after_sales_submitted").get()
    assert notice.context == {
        "number": request.number,
        "product": "阳光玫瑰葡萄",
        "amount": "7.50",
    }
    assert notice.link == reverse("fulfillment:leader_after_sales_detail", args=[request.pk])


def test_deadline_is_the_pickup_plus_the_schedules_window(django_capture_on_commit_callbacks):
    round_ = collected(django_capture_on_commit_callbacks, after_sales_hours=24)
    line = grapes_line(round_.orders[0])
    assert line.picked_up_at is not None
    deadline = aftersales.after_sales_deadline(line)
    assert deadline == line.picked_up_at + timedelta(hours=24)
    # Up to the deadline itself: accepted.
    assert submit(line, now=deadline).status == AS.SUBMITTED
    later = grapes_line(round_.orders[1])
    local = timezone.localtime(aftersales.after_sales_deadline(later)).strftime("%Y-%m-%d %H:%M")
    with pytest.raises(DomainError, match=f"closed at {re.escape(local)}"):
        submit(later, now=aftersales.after_sales_deadline(later) + timedelta(seconds=1))
    assert AfterSalesRequest.objects.count() == 1


def test_deadline_of_an_order_not_picked_up_is_none(fulfil_round):
    assert aftersales.after_sales_deadline(fulfil_round.orders[0].lines.first()) is None


@pytest.mark.parametrize("reason", ["quality", "missing", "damaged", "wrong_item", "other"])
def test_every_listed_reason_is_accepted(picked, reason):
    assert submit(grapes_line(picked.orders[0]), reason=reason).reason == reason


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"reason": "bogus"}, "Choose a reason", "reason"),
        ({"reason": ""}, "Choose a reason", "reason"),
        ({"description": "   "}, "Describe the problem", "description"),
        ({"amount": Decimal("0")}, "above zero", "amount"),
        ({"amount": Decimal("-1")}, "above zero", "amount"),
        ({"amount": None}, "above zero", "amount"),
        ({"amount": Decimal("30.01")}, r"At most ¥30\.00", "amount"),
        ({"photos": [photo() for _ in range(4)]}, "At most 3 photos", "photos"),
        ({"photos": [not_an_image()]}, "not an image we can use", "photos"),
    ],
    ids=[
        "bad_reason",
        "no_reason",
        "no_description",
        "zero",
        "negative",
        "no_amount",
        "too_much",
        "four_photos",
        "not_an_image",
    ],
)
def test_bad_requests_are_refused(picked, fields, message, field):
    line = grapes_line(picked.orders[0])
    with pytest.raises(DomainError, match=message) as error:
        submit(line, **fields)
    assert error.value.field == field
    assert not AfterSalesRequest.objects.exists()
    assert not AfterSalesPhoto.objects.exists()
    assert not member_notices(picked.shop.leader, "after_sales_submitted").exists()


def test_only_ones_own_collected_line(picked, fulfil_round):
    line = grapes_line(picked.orders[0])
    for stranger in (picked.orders[1].member, picked.shop.leader):
        with pytest.raises(DomainError, match="This is not your order"):
            submit(line, member=stranger)
    confirmed = fulfil_round.orders[0]
    with pytest.raises(DomainError, match="once you have collected"):
        submit(grapes_line(confirmed))


def test_claimable_takes_refunds_and_open_requests_into_account(django_capture_on_commit_callbacks):
    # 3 grapes each, one arrives short: the last payer got 2 and 15.00 back.
    round_ = collected(
        django_capture_on_commit_callbacks,
        [{"grapes": 3}, {"grapes": 3}],
        missing={"grapes": (1, 0)},
    )
    line = grapes_line(round_.orders[1])
    assert (line.amount, line.refunded_amount) == (Decimal("45.00"), GRAPES)
    assert aftersales.after_sales_claimable(line) == Decimal("30.00")
    with pytest.raises(DomainError, match=r"At most ¥30\.00"):
        submit(line, amount=Decimal("30.01"))
    first = submit(line, amount=Decimal("10.00"))
    assert aftersales.after_sales_claimable(line) == Decimal("20.00")
    with pytest.raises(DomainError, match=r"At most ¥20\.00"):
        submit(line, amount=Decimal("20.01"))
    # Escalated requests are still open; rejected ones free the amount again.
    aftersales.after_sales_escalate(request=first, actor=round_.shop.leader)
    assert aftersales.after_sales_claimable(line) == Decimal("20.00")
    aftersales.after_sales_reject(request=first, actor=StaffFactory(), reason="Looks fine")
    assert aftersales.after_sales_claimable(line) == Decimal("30.00")
    # Approved: the refund is booked on the line at once.
    second = submit(line, amount=Decimal("12.00"))
    with django_capture_on_commit_callbacks(execute=True):
        aftersales.after_sales_approve(request=second, actor=round_.shop.leader)
    line.refresh_from_db()
    assert line.refunded_amount == Decimal("27.00")
    assert aftersales.after_sales_claimable(line) == Decimal("18.00")
    assert submit(line, amount=Decimal("18.00")).status == AS.SUBMITTED
    assert aftersales.after_sales_claimable(line) == 0


# Deciding


def test_approve_refunds_and_the_request_becomes_refunded(
    picked, django_capture_on_commit_callbacks
):
    line = grapes_line(picked.orders[0])
    request = submit(line, amount=Decimal("7.50"))
    leader = picked.shop.leader
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request = aftersales.after_sales_approve(request=request, actor=leader, note="  Sorry  ")
    assert request.status == AS.APPROVED
    assert (request.decided_by, request.decision_reason) == (leader, "Sorry")
    assert request.decided_at is not None
    refund = request.refund
    assert (refund.amount, refund.line, refund.status) == (
        Decimal("7.50"),
        line,
        RefundStatus.REQUESTED,
    )
    assert request.number in refund.reason
    line.refresh_from_db()
    assert line.refunded_amount == Decimal("7.50")
    assert reload(line.order).refunded_total == Decimal("7.50")
    notice = member_notices(line.order.member, "after_sales_decided").get()
    assert notice.context["decision"] == "Approved"
    assert notice.context["request_number"] == request.number
    assert notice.context["amount"] == "7.50"
    assert changes(request, "approve").get().actor == leader
    assert AfterSalesRequest.objects.get(pk=request.pk).status == AS.APPROVED

    # The refund goes through after commit: the request follows (signal from orders).
    for callback in callbacks:
        callback()
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.SUCCEEDED
    assert ChargeRefund.objects.get().amount == Decimal("7.50")
    assert AfterSalesRequest.objects.get(pk=request.pk).status == AS.REFUNDED
    assert changes(request, "mark_refunded").get().actor is None


def test_a_failed_refund_leaves_the_request_approved(
    picked, django_capture_on_commit_callbacks, monkeypatch
):
    from orders.providers import get_provider
    from orders.providers.base import ProviderError

    def refuse(**kwargs):
        raise ProviderError("account closed", retryable=False)

    monkeypatch.setattr(get_provider("sandbox"), "refund", refuse)
    request = submit(grapes_line(picked.orders[0]))
    with django_capture_on_commit_callbacks(execute=True):
        aftersales.after_sales_approve(request=request, actor=picked.shop.leader)
    assert Refund.objects.get().status == RefundStatus.FAILED
    assert AfterSalesRequest.objects.get(pk=request.pk).status == AS.APPROVED


def test_a_cash_orders_approval_is_refunded_at_once(django_capture_on_commit_callbacks):
    round_ = collected(
        django_capture_on_commit_callbacks,
        [{"grapes": 2, "method": PaymentMethod.AT_PICKUP}],
        allow_pay_at_pickup=True,
    )
    order = round_.orders[0]
    assert order.paid_at is not None and not order.payments.exists()
    request = submit(grapes_line(order), amount=Decimal("15.00"))
    request = aftersales.after_sales_approve(request=request, actor=round_.shop.leader)
    assert (request.status, request.refund) == (AS.REFUNDED, None)
    assert AfterSalesRequest.objects.get(pk=request.pk).status == AS.REFUNDED
    assert "cash" in changes(request, "mark_refunded").get().reason
    assert not Refund.objects.exists()
    notice = member_notices(order.member, "after_sales_decided").get()
    assert notice.context["decision"] == "Refunded"


def test_a_cash_refund_counts_against_what_is_claimable(django_capture_on_commit_callbacks):
    round_ = collected(
        django_capture_on_commit_callbacks,
        [{"grapes": 2, "method": PaymentMethod.AT_PICKUP}],
        allow_pay_at_pickup=True,
    )
    line = grapes_line(round_.orders[0])
    request = submit(line, amount=Decimal("20.00"))
    aftersales.after_sales_approve(request=request, actor=round_.shop.leader)
    assert aftersales.after_sales_claimable(line) == Decimal("10.00")
    with pytest.raises(DomainError, match=r"At most ¥10\.00"):
        submit(line, amount=Decimal("30.00"))
    again = submit(line, amount=Decimal("10.00"))
    aftersales.after_sales_approve(request=again, actor=round_.shop.leader)
    assert aftersales.after_sales_claimable(line) == 0


def test_a_cash_order_claims_only_what_was_paid_for_the_units_received(
    django_capture_on_commit_callbacks,
):
    # The pay-at-pickup order paid last loses 2 of its 3 grapes and pays for 1 only.
    round_ = collected(
        django_capture_on_commit_callbacks,
        [{"grapes": 3}, {"grapes": 3, "method": PaymentMethod.AT_PICKUP}],
        missing={"grapes": (2, 0)},
        allow_pay_at_pickup=True,
    )
    line = grapes_line(round_.orders[1])
    assert (line.short_units, line.refunded_amount) == (2, 0)
    assert aftersales.after_sales_claimable(line) == GRAPES
    with pytest.raises(DomainError, match=r"At most ¥15\.00"):
        submit(line, amount=Decimal("15.01"))
    request = AfterSalesRequest.objects.create(
        order=line.order,
        order_line=line,
        member=line.order.member,
        community=line.order.community,
        reason="other",
        description="slipped through",
        requested_amount=Decimal("15.01"),
    )
    with pytest.raises(DomainError, match="already been refunded in part"):
        aftersales.after_sales_approve(request=request, actor=round_.shop.leader)
    aftersales.after_sales_reject(request=request, actor=round_.shop.leader, reason="Too much")
    request = submit(line, amount=GRAPES)
    aftersales.after_sales_approve(request=request, actor=round_.shop.leader)
    assert aftersales.after_sales_claimable(line) == 0


def test_approve_is_refused_once_the_line_was_refunded_meanwhile(
    picked, django_capture_on_commit_callbacks
):
    line = grapes_line(picked.orders[0])
    first = submit(line, amount=Decimal("20.00"))
    second = submit(line, amount=Decimal("10.00"))
    leader = picked.shop.leader
    aftersales.after_sales_approve(request=first, actor=leader)
    aftersales.after_sales_approve(request=second, actor=leader)  # exactly the rest
    line.refresh_from_db()
    assert line.refunded_amount == line.amount
    # A request for the same line that slipped through cannot be paid on top.
    third = AfterSalesRequest.objects.create(
        order=line.order,
        order_line=line,
        member=line.order.member,
        community=line.order.community,
        reason="other",
        description="again",
        requested_amount=Decimal("1.00"),
    )
    with pytest.raises(DomainError, match="already been refunded in part"):
        aftersales.after_sales_approve(request=third, actor=leader)
    assert AfterSalesRequest.objects.get(pk=third.pk).status == AS.SUBMITTED


def test_reject_needs_a_reason_and_tells_the_member(picked):
    request = submit(grapes_line(picked.orders[0]))
    leader = picked.shop.leader
    for reason in ("", "   ", None):
        with pytest.raises(DomainError, match="Give a reason") as error:
            aftersales.after_sales_reject(request=request, actor=leader, reason=reason)
        assert error.value.field == "reason"
    assert AfterSalesRequest.objects.get(pk=request.pk).status == AS.SUBMITTED
    request = aftersales.after_sales_reject(
        request=request, actor=leader, reason="  The photo shows fresh grapes  "
    )
    assert (request.status, request.decision_reason, request.decided_by) == (
        AS.REJECTED,
        "The photo shows fresh grapes",
        leader,
    )
    assert request.refund is None and not Refund.objects.exists()
    notice = member_notices(request.member, "after_sales_decided").get()
    assert notice.context["decision"] == "Rejected"
    assert notice.context["decision_reason"] == "The photo shows fresh grapes"
    assert changes(request, "reject").get().reason == "The photo shows fresh grapes"
    with pytest.raises(TransitionNotAllowed):
        aftersales.after_sales_approve(request=request, actor=leader)


def test_escalated_requests_are_decided_by_staff_only(picked, django_capture_on_commit_callbacks):
    staff, inactive_staff = StaffFactory(), StaffFactory(is_active=False)
    request = submit(grapes_line(picked.orders[0]), amount=Decimal("9.00"))
    leader = picked.shop.leader
    request = aftersales.after_sales_escalate(request=request, actor=leader, reason=" Unsure ")
    assert request.status == AS.ESCALATED and request.escalated_at is not None
    assert changes(request, "escalate").get().reason == "Unsure"
    notice = member_notices(staff, "after_sales_escalated").get()
    assert notice.context["number"] == request.number
    assert notice.link == reverse("fulfillment:staff_after_sales_detail", args=[request.pk])
    assert not member_notices(inactive_staff, "after_sales_escalated").exists()
    assert not member_notices(request.member, "after_sales_escalated").exists()

    with pytest.raises(DomainError, match="Platform staff decide"):
        aftersales.after_sales_approve(request=request, actor=leader)
    with pytest.raises(DomainError, match="Platform staff decide"):
        aftersales.after_sales_reject(request=request, actor=leader, reason="No")
    with pytest.raises(TransitionNotAllowed):
        aftersales.after_sales_escalate(request=request, actor=leader)
    assert AfterSalesRequest.objects.get(pk=request.pk).status == AS.ESCALATED

    with django_capture_on_commit_callbacks(execute=True):
        request = aftersales.after_sales_approve(request=request, actor=staff)
    assert request.decided_by == staff
    assert AfterSalesRequest.objects.get(pk=request.pk).status == AS.REFUNDED
    assert member_notices(request.member, "after_sales_decided").count() == 1


@pytest.mark.parametrize("who", ["member", "other_leader", "supplier"])
def test_only_the_leader_or_staff_decide(picked, who):
    actor = {
        "member": picked.orders[0].member,
        "other_leader": CommunityFactory().leader,
        "supplier": picked.supplier_user,
    }[who]
    request = submit(grapes_line(picked.orders[0]))
    with pytest.raises(DomainError, match="Only the community's leader can decide"):
        aftersales.after_sales_approve(request=request, actor=actor)
    with pytest.raises(DomainError, match="Only the community's leader can decide"):
        aftersales.after_sales_reject(request=request, actor=actor, reason="No")
    with pytest.raises(DomainError, match="Only the community's leader can escalate"):
        aftersales.after_sales_escalate(request=request, actor=actor)
    assert AfterSalesRequest.objects.get(pk=request.pk).status == AS.SUBMITTED
    assert not Refund.objects.exists()
    # Staff may decide without an escalation.
    staff = StaffFactory()
    assert aftersales.after_sales_reject(request=request, actor=staff, reason="No").status == (
        AS.REJECTED
    )

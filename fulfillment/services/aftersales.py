"""Reviews of collected lines, and after-sales requests decided by the leader (or, when
escalated, by platform staff); an approved request is refunded through the orders stage."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from groupbuy.exceptions import DomainError
from groupbuy.images import image_check
from groupbuy.services import state_change_record
from notifications.services import notify
from orders.models import ZERO, LineStatus, OrderLine, OrderStatus, PaymentMethod, Refund
from orders.services.refunds import refund_request
from orders.services.tell import tell_member

from ..models import (
    AfterSalesPhoto,
    AfterSalesReason,
    AfterSalesRequest,
    AfterSalesStatus,
    Review,
    ReviewPhoto,
)

MAX_PHOTOS = 3
COLLECTED = (OrderStatus.PICKED_UP, OrderStatus.COMPLETED)
OPEN_REQUESTS = (AfterSalesStatus.SUBMITTED, AfterSalesStatus.ESCALATED, AfterSalesStatus.APPROVED)


def _checked_photos(photos) -> list:
    photos = [photo for photo in (photos or []) if photo]
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_("At most %(n)s photos.") % {"n": MAX_PHOTOS}, field="photos")
    return [(upload, image_check(upload, field="photos")[1]) for upload in photos]


def _own_collected_line(member: User, order_line: OrderLine) -> OrderLine:
    line = (
        OrderLine.objects.select_related("order__schedule", "order__community", "item__offer")
        .filter(pk=order_line.pk, order__member=member)
        .first()
    )
    if line is None:
        raise DomainError(_("This is not your order."))
    if line.order.status not in COLLECTED or line.picked_up_at is None:
        raise DomainError(_("You can do this once you have collected the item."))
    if line.status != LineStatus.ACTIVE:
        raise DomainError(_("This item was cancelled."))
    if not line.units_to_hand_over:
        raise DomainError(_("None of this item was delivered; it was refunded."))
    return line


@transaction.atomic
def review_create(
    *, member: User, order_line: OrderLine, rating: int, text: str = "", photos=None
) -> Review:
    line = _own_collected_line(member, order_line)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError(_("Give 1 to 5 stars."), field="rating")
    if Review.objects.filter(order_line=line).exists():
        raise DomainError(_("You have already reviewed this item."))
    checked = _checked_photos(photos)
    review = Review.objects.create(
        order_line=line,
        member=member,
        offer=line.item.offer,
        rating=rating,
        text=(text or "").strip()[:500],
    )
    for upload, extension in checked:
        photo = ReviewPhoto(review=review)
        photo.image.save(f"r{review.pk}.{extension}", ContentFile(upload.read()), save=False)
        photo.save()
    return review


# After-sales


def after_sales_deadline(line: OrderLine) -> datetime | None:
    picked = line.picked_up_at or line.order.picked_up_at
    if picked is None:
        return None
    return picked + timedelta(hours=line.order.schedule.after_sales_hours)


def _not_paid_or_returned_in_cash(line: OrderLine) -> Decimal:
    """An order paid in cash at pickup books no Refund on its line: units that did not
    arrive were never charged, and approved after-sales were handed back in cash."""
    if line.order.payment_method != PaymentMethod.AT_PICKUP:
        return ZERO
    in_cash = line.after_sales_requests.filter(
        status__in=(AfterSalesStatus.APPROVED, AfterSalesStatus.REFUNDED), refund__isnull=True
    ).aggregate(total=Sum("requested_amount"))["total"]
    return line.unit_price * line.short_units + (in_cash or ZERO)


def after_sales_claimable(line: OrderLine) -> Decimal:
    """What can still be asked for: paid for the line, less refunds and open requests."""
    pending = (
        line.after_sales_requests.filter(
            status__in=(AfterSalesStatus.SUBMITTED, AfterSalesStatus.ESCALATED)
        ).aggregate(total=Sum("requested_amount"))["total"]
        or 0
    )
    return line.amount - line.refunded_amount - _not_paid_or_returned_in_cash(line) - pending


@transaction.atomic
def after_sales_submit(
    *,
    member: User,
    order_line: OrderLine,
    reason: str,
    description: str,
    amount: Decimal,
    photos=None,
    now: datetime | None = None,
) -> AfterSalesRequest:
    now = now or timezone.now()
    # Locked first: one request at a time per line, read after any decision commits.
    OrderLine.objects.select_for_update().filter(pk=order_line.pk).first()
    line = _own_collected_line(member, order_line)
    deadline = after_sales_deadline(line)
    if deadline is None or now > deadline:
        raise DomainError(
            _("After-sales requests for this item closed at %(deadline)s.")
            % {"deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")}
        )
    if reason not in AfterSalesReason.values:
        raise DomainError(_("Choose a reason."), field="reason")
    description = (description or "").strip()
    if not description:
        raise DomainError(_("Describe the problem."), field="description")
    claimable = after_sales_claimable(line)
    if amount is None or amount <= 0:
        raise DomainError(_("Ask for an amount above zero."), field="amount")
    if amount > claimable:
        raise DomainError(
            _("At most ¥%(max)s can be refunded for this item.") % {"max": claimable},
            field="amount",
        )
    checked = _checked_photos(photos)
    request = AfterSalesRequest.objects.create(
        order=line.order,
        order_line=line,
        member=member,
        community=line.order.community,
        reason=reason,
        description=description[:1000],
        requested_amount=amount,
    )
    for upload, extension in checked:
        photo = AfterSalesPhoto(request=request)
        photo.image.save(f"a{request.pk}.{extension}", ContentFile(upload.read()), save=False)
        photo.save()
    state_change_record(
        subject=request, transition="submit", from_state="", to_state=request.status, actor=member
    )
    notify(
        recipients=[line.order.community.leader],
        kind="after_sales_submitted",
        about=request,
        community=line.order.community,
        sender=member,
        context={
            "number": request.number,
            "product": line.product_name,
            "amount": str(amount),
        },
        link=reverse("fulfillment:leader_after_sales_detail", args=[request.pk]),
    )
    return request


def _transition(request: AfterSalesRequest, name: str, actor: User | None, reason: str = ""):
    from_state = request.status
    getattr(request, name)()
    request.save()
    state_change_record(
        subject=request,
        transition=name,
        from_state=from_state,
        to_state=request.status,
        actor=actor,
        reason=reason,
    )


def _lock(request: AfterSalesRequest) -> AfterSalesRequest:
    return (
        AfterSalesRequest.objects.select_for_update(of=("self",))
        .select_related("order__schedule", "order__community", "order_line", "community")
        .get(pk=request.pk)
    )


def _check_decider(request: AfterSalesRequest, actor: User) -> None:
    if request.status == AfterSalesStatus.ESCALATED:
        if not actor.is_staff:
            raise DomainError(_("Platform staff decide escalated requests."))
    elif not (actor.is_staff or request.community.leader_id == actor.pk):
        raise DomainError(_("Only the community's leader can decide this request."))


def _tell_decision(request: AfterSalesRequest, actor: User) -> None:
    tell_member(
        request.order,
        "after_sales_decided",
        actor=actor,
        request_number=request.number,
        product=request.order_line.product_name,
        decision=request.get_status_display(),
        decision_reason=request.decision_reason,
        amount=request.requested_amount,
    )


@transaction.atomic
def after_sales_approve(
    *, request: AfterSalesRequest, actor: User, note: str = ""
) -> AfterSalesRequest:
    """Approve and refund the requested amount for the line (an order paid in cash at
    pickup has no online payment: the leader hands the money back and it is recorded)."""
    request = _lock(request)
    _check_decider(request, actor)
    line = OrderLine.objects.select_for_update().get(pk=request.order_line_id)
    if request.requested_amount > (
        line.amount - line.refunded_amount - _not_paid_or_returned_in_cash(line)
    ):
        raise DomainError(_("The item has already been refunded in part; reject or ask again."))
    request.decision_reason = (note or "").strip()[:1000]
    request.decided_by = actor
    request.decided_at = timezone.now()
    _transition(request, "approve", actor, request.decision_reason)
    refund = refund_request(
        order=request.order,
        line=line,
        amount=request.requested_amount,
        reason=_("After-sales %(number)s") % {"number": request.number},
    )
    request.refund = refund
    request.save(update_fields=["refund", "updated_at"])
    if refund is None:
        _transition(request, "mark_refunded", actor, _("Returned in cash at pickup"))
    _tell_decision(request, actor)
    return request


@transaction.atomic
def after_sales_reject(*, request: AfterSalesRequest, actor: User, reason: str):
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason; the member sees it."), field="reason")
    request = _lock(request)
    _check_decider(request, actor)
    request.decision_reason = reason[:1000]
    request.decided_by = actor
    request.decided_at = timezone.now()
    _transition(request, "reject", actor, reason)
    _tell_decision(request, actor)
    return request


@transaction.atomic
def after_sales_escalate(*, request: AfterSalesRequest, actor: User, reason: str = ""):
    """The leader passes the decision to platform staff."""
    request = _lock(request)
    if not (actor.is_staff or request.community.leader_id == actor.pk):
        raise DomainError(_("Only the community's leader can escalate this request."))
    request.escalated_at = timezone.now()
    _transition(request, "escalate", actor, (reason or "").strip())
    notify(
        recipients=User.objects.filter(is_staff=True, is_active=True),
        kind="after_sales_escalated",
        about=request,
        community=request.community,
        sender=actor,
        context={"number": request.number, "community_name": request.community.name},
        link=reverse("fulfillment:staff_after_sales_detail", args=[request.pk]),
    )
    return request


def after_sales_refund_succeeded(*, refund: Refund) -> None:
    """A refund succeeded: the approved request it pays becomes refunded."""
    request = (
        AfterSalesRequest.objects.select_for_update(of=("self",))
        .filter(refund=refund, status=AfterSalesStatus.APPROVED)
        .first()
    )
    if request is not None:
        _transition(request, "mark_refunded", None)

"""Reads for reviews and after-sales requests: the member sees her own lines and
requests, the leader her communities', platform staff the escalated ones."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Community, User
from groupbuy.selectors import state_changes_for
from orders.models import LineStatus, Order, OrderLine, OrderStatus, PaymentMethod

from ..models import AfterSalesPhoto, AfterSalesRequest, AfterSalesStatus, Review, ReviewPhoto
from ..services.aftersales import COLLECTED, after_sales_deadline

PENDING = (AfterSalesStatus.SUBMITTED, AfterSalesStatus.ESCALATED)
DECIDED = (AfterSalesStatus.APPROVED, AfterSalesStatus.REFUNDED, AfterSalesStatus.REJECTED)
CASH_DECIDED = (AfterSalesStatus.APPROVED, AfterSalesStatus.REFUNDED)

_REVIEW_PHOTOS = Prefetch("photos", queryset=ReviewPhoto.objects.order_by("id"))
_REQUEST_PHOTOS = Prefetch("photos", queryset=AfterSalesPhoto.objects.order_by("id"))


# Member: one order's lines after pickup


@dataclass
class LineAftercare:
    """What the member may still do about one line of her order."""

    review: Review | None = None
    requests: list[AfterSalesRequest] = field(default_factory=list)
    collected: bool = False
    deadline: datetime | None = None
    claimable: Decimal = Decimal("0.00")
    can_review: bool = False
    can_request: bool = False
    closed: bool = False  # the after-sales window has passed


@dataclass
class OrderAftercare:
    can_confirm_receipt: bool
    requests: list[AfterSalesRequest]
    out_for_delivery_at: datetime | None


def line_is_collected(line: OrderLine) -> bool:
    return (
        line.status == LineStatus.ACTIVE
        and line.picked_up_at is not None
        and line.order.status in COLLECTED
    )


def line_claimable(line: OrderLine, requests) -> Decimal:
    """Paid for the line, less refunds and pending requests, from the line's requests
    already loaded (``after_sales_claimable`` counts the same with queries). A line paid
    in cash at pickup was never charged for its short units and gets approved requests
    back in cash (no Refund)."""
    taken = sum(
        (request.requested_amount for request in requests if request.status in PENDING),
        Decimal("0.00"),
    )
    if line.order.payment_method == PaymentMethod.AT_PICKUP:
        taken += line.unit_price * line.short_units
        taken += sum(
            (
                request.requested_amount
                for request in requests
                if request.status in CASH_DECIDED and request.refund_id is None
            ),
            Decimal("0.00"),
        )
    return max(line.amount - line.refunded_amount - taken, Decimal("0.00"))


def member_order_aftercare(order: Order, lines, *, now: datetime | None = None) -> OrderAftercare:
    """Annotate each of ``lines`` (the order's, ``line.order`` cached) with ``.aftercare``
    (a LineAftercare) in two queries; the order-level actions are returned."""
    now = now or timezone.now()
    reviews = {
        review.order_line_id: review
        for review in Review.objects.filter(order_line__order=order).prefetch_related(
            _REVIEW_PHOTOS
        )
    }
    requests = list(
        AfterSalesRequest.objects.filter(order=order)
        .select_related("order_line")
        .order_by("-created_at", "-id")
    )
    for line in lines:
        line_requests = [request for request in requests if request.order_line_id == line.pk]
        care = LineAftercare(review=reviews.get(line.pk), requests=line_requests)
        care.collected = line_is_collected(line) and line.units_to_hand_over > 0
        if care.collected:
            care.deadline = after_sales_deadline(line)
            care.claimable = line_claimable(line, line_requests)
            care.closed = care.deadline is None or now > care.deadline
            care.can_review = care.review is None
            care.can_request = not care.closed and care.claimable > 0
        line.aftercare = care
    return OrderAftercare(
        can_confirm_receipt=order.status == OrderStatus.PICKED_UP,
        requests=requests,
        out_for_delivery_at=order.out_for_delivery_at,
    )


def member_line(user: User, line_id: int) -> OrderLine:
    """One line of the member's own orders; anyone else's: 404."""
    return get_object_or_404(
        OrderLine.objects.select_related(
            "order__schedule", "order__community", "item__offer__product"
        ).filter(order__member=user),
        pk=line_id,
    )


def line_review(line: OrderLine) -> Review | None:
    return Review.objects.filter(order_line=line).prefetch_related(_REVIEW_PHOTOS).first()


def line_requests(line: OrderLine) -> list[AfterSalesRequest]:
    return list(line.after_sales_requests.order_by("-created_at", "-id"))


def member_after_sales_requests(user: User) -> QuerySet[AfterSalesRequest]:
    return (
        AfterSalesRequest.objects.filter(member=user)
        .select_related("order", "order_line", "community")
        .order_by("-created_at", "-id")
    )


def member_after_sales_request(user: User, request_id: int) -> AfterSalesRequest:
    return get_object_or_404(
        AfterSalesRequest.objects.filter(member=user)
        .select_related("order", "order_line", "community", "refund")
        .prefetch_related(_REQUEST_PHOTOS),
        pk=request_id,
    )


def request_history(request: AfterSalesRequest):
    return state_changes_for(request).order_by("created_at", "id")


# Leader


def _leader_requests() -> QuerySet[AfterSalesRequest]:
    return AfterSalesRequest.objects.select_related("member", "order", "order_line", "community")


def leader_after_sales_requests(
    community: Community, *, status: str = ""
) -> QuerySet[AfterSalesRequest]:
    """The community's requests, newest first; ``community`` must already be the leader's."""
    requests = _leader_requests().filter(community=community)
    if status in AfterSalesStatus.values:
        requests = requests.filter(status=status)
    return requests.order_by("-created_at", "-id")


def after_sales_status_counts(community: Community) -> dict[str, int]:
    rows = (
        AfterSalesRequest.objects.filter(community=community)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    )
    return {row["status"]: row["n"] for row in rows}


def _request_detail(requests: QuerySet[AfterSalesRequest], request_id: int):
    return get_object_or_404(
        requests.select_related(
            "order__schedule", "order__pickup_point", "refund", "decided_by"
        ).prefetch_related(_REQUEST_PHOTOS),
        pk=request_id,
    )


def leader_after_sales_request(user: User, request_id: int) -> AfterSalesRequest:
    """A request of one of the leader's communities; others: 404."""
    return _request_detail(_leader_requests().filter(community__leader=user), request_id)


def community_reviews(community: Community) -> QuerySet[Review]:
    return (
        Review.objects.filter(order_line__order__community=community)
        .select_related("member", "order_line__order")
        .prefetch_related(_REVIEW_PHOTOS)
        .order_by("-created_at", "-id")
    )


# Platform staff


STAFF_QUEUES = ("escalated", "decided")


def staff_after_sales_requests(queue: str = "escalated") -> QuerySet[AfterSalesRequest]:
    """Escalated requests waiting for the platform (oldest first), or those it decided."""
    requests = _leader_requests().filter(escalated_at__isnull=False)
    if queue == "decided":
        return requests.filter(status__in=DECIDED).order_by("-decided_at", "-id")
    return requests.filter(status=AfterSalesStatus.ESCALATED).order_by("escalated_at", "id")


def staff_after_sales_request(request_id: int) -> AfterSalesRequest:
    """Staff see only requests a leader escalated."""
    return _request_detail(_leader_requests().filter(escalated_at__isnull=False), request_id)

"""Receipt of a purchase order and the allocation of missing units to member lines.

The leader states per line what arrived (received, short, damaged). Units the members
ordered that did not arrive are taken from their order lines by the schedule's stated rule
and refunded for exactly those units. ``receipt_plan`` computes the result without writing
(the leader sees it first); ``receipt_apply`` writes it once and records each allocation.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from groupbuy.exceptions import DomainError
from groupbuy.services import state_changes_record
from orders.models import ZERO, LineStatus, Order, OrderLine, OrderStatus
from orders.services.ordering import lock_order, order_end
from orders.services.refunds import refund_request
from orders.services.tell import tell_member
from scheduling.models import ShortageRule

from ..models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, ShortageAllocation
from .purchasing import SUPPLIED_ORDER_STATUSES, purchase_order_transition


@dataclass(frozen=True)
class Claim:
    """One member line's claim on an item: who, how many, and when it was paid."""

    line_id: int
    quantity: int
    paid_rank: tuple  # sorts earliest paid first


def allocate_shortage(claims: list[Claim], missing: int, rule: str) -> dict[int, int]:
    """Units each line loses so that the total is ``min(missing, ordered)``.

    ``latest_paid_first``: the latest paid lines lose first, each up to its quantity.
    ``proportional``: each line loses its share ``quantity * missing / total`` rounded
    down; the units left over go one each to the largest remainders (latest paid first
    among equals). No line ever loses more than it ordered.
    """
    total = sum(claim.quantity for claim in claims)
    missing = max(0, min(missing, total))
    if not missing:
        return {}
    latest_first = sorted(claims, key=lambda claim: claim.paid_rank, reverse=True)
    losses: dict[int, int] = {}
    if rule == ShortageRule.PROPORTIONAL:
        remainders = []
        for claim in latest_first:
            share, remainder = divmod(claim.quantity * missing, total)
            if share:
                losses[claim.line_id] = share
            remainders.append((remainder, claim))
        left = missing - sum(losses.values())
        # Stable sort keeps latest-paid-first among equal remainders.
        for _remainder, claim in sorted(remainders, key=lambda pair: pair[0], reverse=True):
            if not left:
                break
            if losses.get(claim.line_id, 0) < claim.quantity:
                losses[claim.line_id] = losses.get(claim.line_id, 0) + 1
                left -= 1
        return losses
    left = missing
    for claim in latest_first:
        if not left:
            break
        taken = min(claim.quantity, left)
        losses[claim.line_id] = taken
        left -= taken
    return losses


@dataclass
class LineLoss:
    order_line: OrderLine
    units: int
    amount: Decimal


@dataclass
class ItemReceipt:
    purchase_line: PurchaseOrderLine
    received: int
    short: int
    damaged: int
    missing_for_members: int = 0
    losses: list[LineLoss] = field(default_factory=list)

    @property
    def refund_total(self) -> Decimal:
        return sum((loss.amount for loss in self.losses), ZERO)


@dataclass
class ReceiptPlan:
    purchase_order: PurchaseOrder
    items: list[ItemReceipt]
    rule: str

    @property
    def refund_total(self) -> Decimal:
        return sum((item.refund_total for item in self.items), ZERO)

    @property
    def affected_orders(self) -> int:
        return len({loss.order_line.order_id for item in self.items for loss in item.losses})


def _claims(purchase_line: PurchaseOrderLine) -> list[OrderLine]:
    return list(
        OrderLine.objects.filter(
            item_id=purchase_line.item_id,
            status=LineStatus.ACTIVE,
            order__status__in=SUPPLIED_ORDER_STATUSES,
        )
        .select_related("order")
        .order_by("id")
    )


def _paid_rank(line: OrderLine) -> tuple:
    order = line.order
    moment = order.paid_at or order.confirmed_at or order.created_at
    return (moment, order.pk, line.pk)


def receipt_plan(
    *, purchase_order: PurchaseOrder, counts: dict[int, tuple[int, int, int]]
) -> ReceiptPlan:
    """What receiving ``counts`` ({purchase line id: (received, short, damaged)}) would do.
    Every line of the purchase order must be counted: received + short + damaged equals
    what was shipped (or ordered). Raises DomainError."""
    schedule = purchase_order.schedule
    lines = list(purchase_order.lines.filter(declined=False).order_by("id"))
    if set(counts) != {line.pk for line in lines}:
        raise DomainError(_("Count every line of the purchase order."), field="counts")
    items = []
    for line in lines:
        received, short, damaged = counts[line.pk]
        expected = line.shipped_quantity if line.shipped_quantity is not None else line.quantity
        if min(received, short, damaged) < 0:
            raise DomainError(
                _("%(name)s: quantities cannot be negative.") % {"name": line.product_name},
                field="counts",
            )
        if received + short + damaged != line.quantity:
            raise DomainError(
                _(
                    "%(name)s: received, short and damaged must add up to the %(n)s ordered"
                    " (%(shipped)s shipped)."
                )
                % {"name": line.product_name, "n": line.quantity, "shipped": expected},
                field="counts",
            )
        item = ItemReceipt(purchase_line=line, received=received, short=short, damaged=damaged)
        claims = _claims(line)
        ordered = sum(claim.quantity for claim in claims)
        # Extra units from rounding up to whole cases absorb a shortage first.
        item.missing_for_members = max(0, ordered - received)
        by_id = {claim.pk: claim for claim in claims}
        losses = allocate_shortage(
            [Claim(claim.pk, claim.quantity, _paid_rank(claim)) for claim in claims],
            item.missing_for_members,
            schedule.shortage_rule,
        )
        item.losses = [
            LineLoss(by_id[line_id], units, by_id[line_id].unit_price * units)
            for line_id, units in sorted(losses.items())
        ]
        items.append(item)
    return ReceiptPlan(purchase_order=purchase_order, items=items, rule=schedule.shortage_rule)


def _check_leader(purchase_order: PurchaseOrder, actor: User) -> None:
    if not (actor.is_staff or purchase_order.community.leader_id == actor.pk):
        raise DomainError(_("Only the community's leader can receive its goods."))


@transaction.atomic
def receipt_apply(
    *,
    purchase_order: PurchaseOrder,
    actor: User,
    counts: dict[int, tuple[int, int, int]],
    now: datetime | None = None,
) -> ReceiptPlan:
    """Record the receipt once: line counts, allocations with their refunds, members told,
    orders whose goods have all arrived become ready for pickup."""
    now = now or timezone.now()
    purchase_order = (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("schedule", "community", "supplier")
        .get(pk=purchase_order.pk)
    )
    _check_leader(purchase_order, actor)
    if purchase_order.status != PurchaseOrderStatus.READY:
        raise DomainError(_("Goods can be received once the supplier has marked them ready."))
    plan = receipt_plan(purchase_order=purchase_order, counts=counts)
    rule_label = ShortageRule(plan.rule).label
    per_order: dict[int, list[LineLoss]] = {}
    for item in plan.items:
        line = item.purchase_line
        line.received_quantity = item.received
        line.short_quantity = item.short
        line.damaged_quantity = item.damaged
        line.save(update_fields=["received_quantity", "short_quantity", "damaged_quantity"])
        for loss in item.losses:
            order_line = loss.order_line
            lock_order(order_line.order_id)
            updated = OrderLine.objects.filter(
                pk=order_line.pk, short_units__lte=F("quantity") - loss.units
            ).update(short_units=F("short_units") + loss.units)
            if not updated:
                raise DomainError(_("These goods were already received."))
            order_line.short_units += loss.units
            refund = refund_request(
                order=order_line.order,
                line=order_line,
                amount=loss.amount,
                reason=_("%(n)s × %(name)s did not arrive")
                % {"n": loss.units, "name": order_line.product_name},
                now=now,
            )
            ShortageAllocation.objects.create(
                purchase_line=line,
                order_line=order_line,
                units=loss.units,
                amount=loss.amount,
                refund=refund,
            )
            per_order.setdefault(order_line.order_id, []).append(loss)
    purchase_order.received_at = now
    purchase_order_transition(purchase_order, "receive", actor=actor)
    for order_id, losses in per_order.items():
        _tell_shortage(order_id, losses, rule_label)
    orders_make_ready(schedule_id=purchase_order.schedule_id, actor=actor, now=now)
    return plan


def _tell_shortage(order_id: int, losses: list[LineLoss], rule_label: str) -> None:
    order = Order.objects.select_related("schedule", "pickup_point", "member", "community").get(
        pk=order_id
    )
    remaining = [
        f"{line.product_name} × {line.units_to_hand_over}"
        for line in order.lines.filter(status=LineStatus.ACTIVE).order_by("id")
        if line.units_to_hand_over
    ]
    tell_member(
        order,
        "order_shortage",
        missing="; ".join(f"{loss.order_line.product_name} × {loss.units}" for loss in losses),
        receiving_items="; ".join(remaining) or _("nothing"),
        amount=sum((loss.amount for loss in losses), ZERO),
        rule=rule_label,
    )


def orders_make_ready(*, schedule_id: int, actor: User | None, now: datetime) -> int:
    """Confirmed orders of the schedule whose every line's goods were received become
    ready for pickup; an order left with nothing to hand over is cancelled and refunded.

    The orders are locked and read in two queries and the ready ones written in bulk (one
    UPDATE, one INSERT of their state changes): a round has hundreds of orders.
    """
    received_items = set(
        PurchaseOrderLine.objects.filter(
            purchase_order__schedule_id=schedule_id,
            purchase_order__status__in=(PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.CLOSED),
        ).values_list("item_id", flat=True)
    )
    candidates = (
        Order.objects.select_for_update(of=("self",))
        .filter(schedule_id=schedule_id, status=OrderStatus.CONFIRMED)
        .select_related("schedule", "community", "pickup_point", "member")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.filter(status=LineStatus.ACTIVE))
        )
        .order_by("pk")
    )
    ready = []
    for order in candidates:
        lines = list(order.lines.all())
        if not lines or any(line.item_id not in received_items for line in lines):
            continue
        if not any(line.units_to_hand_over for line in lines):
            reason = _("None of the goods arrived")
            order_end(order, transition="cancel", actor=actor, reason=reason, now=now)
            tell_member(order, "order_cancelled", reason=reason)
            continue
        order.make_ready()
        order.ready_at = now
        ready.append(order)
    if ready:
        Order.objects.filter(pk__in=[order.pk for order in ready]).update(
            status=OrderStatus.READY_FOR_PICKUP, ready_at=now, updated_at=now
        )
        state_changes_record(
            subjects=ready,
            transition="make_ready",
            from_state=OrderStatus.CONFIRMED,
            to_state=OrderStatus.READY_FOR_PICKUP,
            actor=actor,
        )
    return len(ready)

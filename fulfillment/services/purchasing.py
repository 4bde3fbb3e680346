"""Purchase orders (采购单): one per supplier and schedule, from the confirmed order lines.

Drafts are (re)built from the orders until the leader sends them; the supplier then
acknowledges or declines lines (their member lines are cancelled and refunded), stocks up
and marks the goods ready or shipped. Every step is recorded and the other side told.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import SupplierOrganization, User
from groupbuy.exceptions import DomainError
from groupbuy.services import state_change_record
from notifications.services import notify
from orders.models import LineStatus, Order, OrderLine, OrderStatus
from orders.services.review import item_lines_cancel
from scheduling.models import ItemOutcome, Schedule, ScheduleStatus

from ..models import Dispatch, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus

# Orders whose lines the supplier must deliver.
SUPPLIED_ORDER_STATUSES = (
    OrderStatus.CONFIRMED,
    OrderStatus.READY_FOR_PICKUP,
    OrderStatus.PICKED_UP,
    OrderStatus.COMPLETED,
)


def whole_cases(units: int, case_size: int) -> int:
    """``units`` rounded up to whole cases."""
    case_size = max(case_size, 1)
    return -(-units // case_size) * case_size


def purchase_order_transition(
    purchase_order: PurchaseOrder, name: str, *, actor: User | None, reason: str = ""
) -> None:
    from_state = purchase_order.status
    getattr(purchase_order, name)()
    purchase_order.save()
    state_change_record(
        subject=purchase_order,
        transition=name,
        from_state=from_state,
        to_state=purchase_order.status,
        actor=actor,
        reason=reason,
    )


def _check_leader(schedule: Schedule, actor: User) -> None:
    if not (actor.is_staff or schedule.community.leader_id == actor.pk):
        raise DomainError(_("Only the community's leader can manage its purchase orders."))


def _check_supplier(purchase_order: PurchaseOrder, actor: User) -> None:
    if not actor.is_staff and not purchase_order.supplier.members.filter(user=actor).exists():
        raise DomainError(_("Only the supplier's team can answer this purchase order."))


def _supplier_users(supplier: SupplierOrganization):
    return User.objects.filter(supplier_membership__supplier=supplier)


def _lock(purchase_order: PurchaseOrder) -> PurchaseOrder:
    return (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("schedule__community", "supplier", "community")
        .get(pk=purchase_order.pk)
    )


def _delivery_address(schedule: Schedule) -> tuple[str, str]:
    points = list(schedule.pickup_points.order_by("id"))
    address = "; ".join(f"{point.name} ({point.address})" for point in points)
    phone = points[0].contact_phone if points else ""
    return address[:300], phone or (schedule.community.leader.phone or "")


def _confirmed_units_per_item(schedule: Schedule) -> dict[int, int]:
    rows = (
        OrderLine.objects.filter(
            order__schedule=schedule,
            order__status__in=SUPPLIED_ORDER_STATUSES,
            status=LineStatus.ACTIVE,
        )
        .values("item_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["item_id"]: row["units"] for row in rows}


@transaction.atomic
def purchase_orders_prepare(*, schedule: Schedule, actor: User | None) -> list[PurchaseOrder]:
    """Build or rebuild the draft purchase orders of a schedule from its confirmed lines
    (rounded up to whole cases, at the agreed supply price). Sent ones do not change."""
    schedule = (
        Schedule.objects.select_for_update(of=("self",))
        .select_related("community__leader")
        .get(pk=schedule.pk)
    )
    if actor is not None:
        _check_leader(schedule, actor)
    if schedule.status not in (ScheduleStatus.PUBLISHED, ScheduleStatus.CLOSED):
        raise DomainError(_("Purchase orders are made for published or closed schedules."))
    units = _confirmed_units_per_item(schedule)
    items = (
        schedule.items.exclude(outcome=ItemOutcome.FAILED)
        .select_related("offer__product", "offer__supplier")
        .order_by("offer__supplier_id", "display_order", "id")
    )
    by_supplier: dict[int, list] = {}
    for item in items:
        if units.get(item.pk):
            by_supplier.setdefault(item.offer.supplier_id, []).append(item)
    address, phone = _delivery_address(schedule)
    prepared = []
    existing = {po.supplier_id: po for po in schedule.purchase_orders.select_for_update()}
    for supplier_id, supplier_items in by_supplier.items():
        purchase_order = existing.get(supplier_id)
        if purchase_order is not None and purchase_order.status != PurchaseOrderStatus.DRAFT:
            continue
        if purchase_order is None:
            purchase_order = PurchaseOrder.objects.create(
                schedule=schedule,
                supplier_id=supplier_id,
                community=schedule.community,
                delivery_date=schedule.arrival_date,
                delivery_address=address,
                contact_phone=phone,
            )
            state_change_record(
                subject=purchase_order,
                transition="prepare",
                from_state="",
                to_state=purchase_order.status,
                actor=actor,
            )
        else:
            purchase_order.lines.all().delete()
            purchase_order.delivery_date = schedule.arrival_date
            purchase_order.delivery_address = address
            purchase_order.contact_phone = phone
            purchase_order.save()
        PurchaseOrderLine.objects.bulk_create(
            PurchaseOrderLine(
                purchase_order=purchase_order,
                item=item,
                product_name=item.offer.product.name,
                spec=item.offer.product.spec,
                unit=item.offer.product.unit,
                case_size=item.offer.case_size,
                unit_price=item.supply_price,
                ordered_units=units[item.pk],
                quantity=whole_cases(units[item.pk], item.offer.case_size),
            )
            for item in supplier_items
        )
        prepared.append(purchase_order)
    # Drafts of suppliers nobody ordered from any more go away.
    for supplier_id, purchase_order in existing.items():
        if supplier_id not in by_supplier and purchase_order.status == PurchaseOrderStatus.DRAFT:
            purchase_order.delete()
    return prepared


def schedules_prepare_purchase_orders() -> int:
    """Beat: closed schedules without purchase orders get their drafts."""
    due = Schedule.objects.filter(
        status=ScheduleStatus.CLOSED, purchase_orders__isnull=True
    ).values_list("pk", flat=True)
    done = 0
    for schedule_id in list(due):
        done += bool(purchase_orders_prepare(schedule=Schedule(pk=schedule_id), actor=None))
    return done


@transaction.atomic
def purchase_order_send(
    *, purchase_order: PurchaseOrder, actor: User, now: datetime | None = None
) -> PurchaseOrder:
    now = now or timezone.now()
    purchase_order = _lock(purchase_order)
    schedule = purchase_order.schedule
    _check_leader(schedule, actor)
    if now < schedule.cutoff:
        raise DomainError(_("Purchase orders go out after the cut-off, when orders are final."))
    waiting = Order.objects.filter(schedule=schedule).filter(
        Q(status=OrderStatus.PAID) | Q(status=OrderStatus.PENDING_PAYMENT)
    )
    if waiting.exists():
        raise DomainError(
            _("Confirm or reject the %(n)s paid or unpaid orders first.") % {"n": waiting.count()}
        )
    if not purchase_order.lines.exists():
        raise DomainError(_("This purchase order has no lines."))
    purchase_order.sent_at = now
    purchase_order_transition(purchase_order, "send", actor=actor)
    notify(
        recipients=_supplier_users(purchase_order.supplier),
        kind="purchase_order_sent",
        about=purchase_order,
        sender=actor,
        context={
            "number": purchase_order.number,
            "community_name": purchase_order.community.name,
            "delivery_date": purchase_order.delivery_date.isoformat(),
        },
        link=reverse("fulfillment:supplier_purchase_order", args=[purchase_order.pk]),
    )
    return purchase_order


def _tell_leader(purchase_order: PurchaseOrder, kind: str, actor: User, **context) -> None:
    notify(
        recipients=[purchase_order.community.leader],
        kind=kind,
        about=purchase_order,
        community=purchase_order.community,
        sender=actor,
        context={
            "number": purchase_order.number,
            "supplier_name": purchase_order.supplier.name,
            **{key: str(value) for key, value in context.items()},
        },
        link=reverse("fulfillment:leader_purchase_order", args=[purchase_order.pk]),
    )


@transaction.atomic
def purchase_order_acknowledge(
    *, purchase_order: PurchaseOrder, actor: User, declined_lines: dict[int, str] | None = None
) -> PurchaseOrder:
    """The supplier accepts the order, possibly declining some lines with a reason each;
    the members' lines of a declined item are cancelled and refunded."""
    purchase_order = _lock(purchase_order)
    _check_supplier(purchase_order, actor)
    if purchase_order.status != PurchaseOrderStatus.SENT:
        raise DomainError(_("Only a sent purchase order can be acknowledged."))
    declined_lines = declined_lines or {}
    lines = {line.pk: line for line in purchase_order.lines.select_related("item__offer__product")}
    if set(declined_lines) - set(lines):
        raise DomainError(_("Choose lines of this purchase order."), field="declined_lines")
    if any(not (reason or "").strip() for reason in declined_lines.values()):
        raise DomainError(_("Give a reason for each declined line."), field="declined_lines")
    if declined_lines and len(declined_lines) == len(lines):
        raise DomainError(
            _("Declining every line declines the purchase order; use Decline instead."),
            field="declined_lines",
        )
    for line_id, reason in declined_lines.items():
        _decline_line(lines[line_id], reason.strip(), actor)
    purchase_order.acknowledged_at = timezone.now()
    purchase_order_transition(purchase_order, "acknowledge", actor=actor)
    _tell_leader(purchase_order, "purchase_order_acknowledged", actor, declined=len(declined_lines))
    return purchase_order


def _decline_line(line: PurchaseOrderLine, reason: str, actor: User) -> None:
    line.declined = True
    line.decline_reason = reason[:200]
    line.save(update_fields=["declined", "decline_reason"])
    item_lines_cancel(
        item=line.item,
        reason=_("the supplier cannot deliver it: %(reason)s") % {"reason": reason},
        notice_kind="order_item_unavailable",
        actor=actor,
    )


@transaction.atomic
def purchase_order_decline(
    *, purchase_order: PurchaseOrder, actor: User, reason: str
) -> PurchaseOrder:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason; the leader sees it."), field="reason")
    purchase_order = _lock(purchase_order)
    _check_supplier(purchase_order, actor)
    if purchase_order.status != PurchaseOrderStatus.SENT:
        raise DomainError(_("Only a sent purchase order can be declined."))
    for line in purchase_order.lines.select_related("item__offer__product"):
        _decline_line(line, reason, actor)
    purchase_order.decline_reason = reason
    purchase_order_transition(purchase_order, "decline", actor=actor, reason=reason)
    _tell_leader(purchase_order, "purchase_order_declined", actor, reason=reason)
    return purchase_order


@transaction.atomic
def purchase_order_start_stocking(*, purchase_order: PurchaseOrder, actor: User):
    purchase_order = _lock(purchase_order)
    _check_supplier(purchase_order, actor)
    purchase_order_transition(purchase_order, "start_stocking", actor=actor)
    return purchase_order


@transaction.atomic
def purchase_order_mark_ready(
    *,
    purchase_order: PurchaseOrder,
    actor: User,
    dispatch: str,
    shipped: dict[int, int] | None = None,
    note: str = "",
) -> PurchaseOrder:
    """Goods ready for collection or shipped, with the quantity per line (default: as
    ordered); the leader is told."""
    if dispatch not in Dispatch.values:
        raise DomainError(_("Say whether the goods are ready or shipped."), field="dispatch")
    purchase_order = _lock(purchase_order)
    _check_supplier(purchase_order, actor)
    if purchase_order.status not in (
        PurchaseOrderStatus.ACKNOWLEDGED,
        PurchaseOrderStatus.STOCKING,
    ):
        raise DomainError(_("Acknowledge the purchase order first."))
    shipped = shipped or {}
    lines = list(purchase_order.lines.filter(declined=False))
    if set(shipped) - {line.pk for line in lines}:
        raise DomainError(_("Choose lines of this purchase order."), field="shipped")
    for line in lines:
        quantity = shipped.get(line.pk, line.quantity)
        if quantity is None or quantity < 0 or quantity > line.quantity:
            raise DomainError(
                _("%(name)s: ship between 0 and %(max)s.")
                % {"name": line.product_name, "max": line.quantity},
                field="shipped",
            )
        line.shipped_quantity = quantity
        line.save(update_fields=["shipped_quantity"])
    purchase_order.dispatch = dispatch
    purchase_order.delivery_note = (note or "").strip()[:1000]
    purchase_order.ready_at = timezone.now()
    purchase_order_transition(purchase_order, "mark_ready", actor=actor)
    _tell_leader(purchase_order, "purchase_order_ready", actor, dispatch=dispatch)
    return purchase_order


@transaction.atomic
def purchase_order_close(*, purchase_order: PurchaseOrder, actor: User) -> PurchaseOrder:
    """The leader settles a received purchase order with the supplier (nothing more can be
    recorded on it); the supplier is told."""
    purchase_order = _lock(purchase_order)
    _check_leader(purchase_order.schedule, actor)
    if purchase_order.status != PurchaseOrderStatus.RECEIVED:
        raise DomainError(_("Only a received purchase order can be closed."))
    purchase_order_transition(purchase_order, "close", actor=actor)
    notify(
        recipients=_supplier_users(purchase_order.supplier),
        kind="purchase_order_closed",
        about=purchase_order,
        sender=actor,
        context={
            "number": purchase_order.number,
            "community_name": purchase_order.community.name,
        },
        link=reverse("fulfillment:supplier_purchase_order", args=[purchase_order.pk]),
    )
    return purchase_order

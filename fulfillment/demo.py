"""A finished round for the demo (seed_demo): last week's group buy of the first community,
taken through every fulfilment step so each role has something to look at: a received
purchase order with one unit short (and its refund), a pickup notice, collected and
waiting orders, a review and an after-sales request waiting for the leader."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from catalog.selectors import listed_offers
from orders.models import PaymentMethod
from orders.services.ordering import order_place
from orders.services.payments import payment_start, payment_sync
from orders.services.review import order_confirm
from sandboxpay import gateway
from sandboxpay.models import Charge
from scheduling.models import Schedule
from scheduling.services import schedules

from .services import aftersales, pickup, purchasing, receiving

DEMO_TITLE = "上周水果团（已到货）"


def _pay(order, member) -> None:
    payment = payment_start(order=order, member=member)
    gateway.charge_settle(
        token=Charge.objects.get(trade_number=payment.trade_number).token, paid=True
    )
    payment_sync(payment_id=payment.pk)


def seed_fulfilment(*, community) -> Schedule | None:
    """Safe to run again: does nothing once the demo round exists."""
    existing = Schedule.objects.filter(community=community, title=DEMO_TITLE).first()
    if existing is not None:
        return existing
    offers = list(listed_offers().select_related("product", "supplier").order_by("id")[:2])
    members = list(
        User.objects.filter(memberships__community=community)
        .exclude(pk=community.leader_id)
        .order_by("phone")[:3]
    )
    point = community.pickup_points.filter(is_active=True).order_by("id").first()
    if len(offers) < 2 or len(members) < 3 or point is None:
        return None
    leader = community.leader
    now = timezone.now()
    # Built as a live round, then its timeline is moved into the past (demo data only):
    # publishing needs a cut-off in the future, the later steps one in the past.
    schedule = schedules.schedule_create(
        community=community,
        actor=leader,
        pickup_points=[point],
        title=DEMO_TITLE,
        sale_start=now - timedelta(minutes=5),
        cutoff=now + timedelta(minutes=30),
        arrival_date=(now + timedelta(days=1)).date(),
        pickup_start=now + timedelta(days=1, hours=2),
        pickup_end=now + timedelta(days=1, hours=6),
        notes="请带好购物袋。",
        allow_pay_at_pickup=True,
    )
    for position, offer in enumerate(offers):
        schedules.schedule_item_add(
            schedule=schedule,
            actor=leader,
            offer=offer,
            member_price=offer.retail_price,
            quantity_cap=60,
            per_member_limit=6,
            min_group_qty=0,
            display_order=position,
            highlight="",
        )
    schedules.schedule_publish(schedule=schedule, actor=leader)
    items = list(schedule.items.order_by("display_order"))
    orders = []
    for member, quantities, method in (
        (members[0], {items[0].pk: 3, items[1].pk: 1}, PaymentMethod.ONLINE),
        (members[1], {items[0].pk: 2}, PaymentMethod.ONLINE),
        (members[2], {items[1].pk: 2}, PaymentMethod.AT_PICKUP),
    ):
        with transaction.atomic():
            order = order_place(
                member=member,
                schedule=schedule,
                quantities=quantities,
                payment_method=method,
                pickup_point=point,
            )
        if method == PaymentMethod.ONLINE:
            _pay(order, member)
            order.refresh_from_db()
            order = order_confirm(order=order, actor=leader)
        orders.append(order)

    past = now - timedelta(days=2)
    Schedule.objects.filter(pk=schedule.pk).update(
        sale_start=past - timedelta(days=1),
        cutoff=past,
        arrival_date=(past + timedelta(days=1)).date(),
        pickup_start=past + timedelta(days=1),
        pickup_end=past + timedelta(days=1, hours=5),
    )
    schedule.refresh_from_db()
    schedules.schedule_close(schedule_id=schedule.pk, now=past + timedelta(minutes=1))
    for purchase_order in purchasing.purchase_orders_prepare(schedule=schedule, actor=leader):
        supplier_user = purchase_order.supplier.members.get(is_owner=True).user
        purchasing.purchase_order_send(purchase_order=purchase_order, actor=leader)
        purchasing.purchase_order_acknowledge(purchase_order=purchase_order, actor=supplier_user)
        purchasing.purchase_order_mark_ready(
            purchase_order=purchase_order,
            actor=supplier_user,
            dispatch="shipped",
            note="冷链车早上 8 点送达",
        )
        counts = {}
        for line in purchase_order.lines.all():
            # The first product arrives one unit short of what members ordered.
            short = line.quantity - line.ordered_units + 1 if line.item_id == items[0].pk else 0
            counts[line.pk] = (line.quantity - short, short, 0)
        receiving.receipt_apply(purchase_order=purchase_order, actor=leader, counts=counts)
    pickup.pickup_notice_send(
        schedule=schedule,
        actor=leader,
        window_start=schedule.pickup_start,
        window_end=schedule.pickup_end,
        place=f"{point.name}（{point.address}）",
        notes="请带好购物袋，凭取货码取货。",
        contact_phone=point.contact_phone,
    )
    first = orders[0]
    first.refresh_from_db()
    pickup.pickup_hand_over(order=first, actor=leader)
    line = first.lines.order_by("id").first()
    aftersales.review_create(member=members[0], order_line=line, rating=5, text="很甜，下次还买")
    aftersales.after_sales_submit(
        member=members[0],
        order_line=line,
        reason="quality",
        description="有一串葡萄压坏了",
        amount=min(Decimal("10.00"), line.unit_price),
    )
    return schedule

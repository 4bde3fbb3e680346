"""Demo orders in the demo schedule (seed_demo): confirmed, paid, pay at pickup, unpaid."""

from django.db import transaction

from accounts.models import User
from sandboxpay import gateway
from sandboxpay.models import Charge
from scheduling.models import Schedule

from .models import PaymentMethod
from .services.ordering import order_place
from .services.payments import payment_start, payment_sync
from .services.review import order_confirm


def _paid_online(order, member):
    payment = payment_start(order=order, member=member)
    # As if the member tapped Pay in the cashier; the order learns it from the provider.
    gateway.charge_settle(
        token=Charge.objects.get(trade_number=payment.trade_number).token, paid=True
    )
    payment_sync(payment_id=payment.pk)


def seed_orders(*, schedule: Schedule) -> None:
    """Safe to run again: does nothing once the demo schedule has orders."""
    if schedule.orders.exists() or schedule.status != "published":
        return
    members = list(
        User.objects.filter(memberships__community=schedule.community)
        .exclude(pk=schedule.community.leader_id)
        .order_by("phone")[:4]
    )
    items = list(schedule.items.order_by("display_order", "id"))
    point = schedule.pickup_points.order_by("id").first()
    if len(members) < 4 or len(items) < 2 or point is None:
        return
    leader = schedule.community.leader
    plans = [
        ({items[0].pk: 2, items[1].pk: 1}, PaymentMethod.ONLINE, "confirm"),
        ({items[0].pk: 1}, PaymentMethod.ONLINE, "pay"),
        ({items[1].pk: 2}, PaymentMethod.AT_PICKUP, ""),
        ({items[-1].pk: 1}, PaymentMethod.ONLINE, ""),
    ]
    for member, (quantities, method, step) in zip(members, plans, strict=True):
        with transaction.atomic():
            order = order_place(
                member=member,
                schedule=schedule,
                quantities=quantities,
                payment_method=method,
                pickup_point=point,
                note="麻烦挑新鲜一点的" if step == "confirm" else "",
            )
        if step:
            _paid_online(order, member)
        if step == "confirm":
            order.refresh_from_db()
            order_confirm(order=order, actor=leader)

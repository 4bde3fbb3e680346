"""Notices to a member about her order, with the receiving information."""

from django.urls import reverse
from django.utils import timezone

from notifications.services import notify

from ..models import Fulfilment, Order


def receiving_info(order: Order) -> str:
    schedule = order.schedule
    start = timezone.localtime(schedule.pickup_start)
    end = timezone.localtime(schedule.pickup_end)
    window = (
        f"{start:%m-%d %H:%M}–{end:%H:%M}"
        if start.date() == end.date()
        else (f"{start:%m-%d %H:%M}–{end:%m-%d %H:%M}")
    )
    if order.fulfilment == Fulfilment.DELIVERY:
        return f"{order.delivery_address} · {window}"
    point = order.pickup_point
    return f"{point.name} ({point.address}) · {window}" if point else window


def tell_member(order: Order, kind: str, *, actor=None, **context) -> None:
    """In the caller's transaction (the notification outbox)."""
    notify(
        recipients=[order.member],
        kind=kind,
        about=order,
        community=order.community,
        sender=actor,
        context={
            "number": order.number,
            "title": order.schedule.title,
            "total": str(order.total),
            "receiving": receiving_info(order),
            **{key: str(value) for key, value in context.items()},
        },
        link=reverse("orders:member_order", args=[order.number]),
    )

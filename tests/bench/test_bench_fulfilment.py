"""Fulfilment at the size of a big round: 1,000 confirmed member orders of one schedule.

Run with `make bench` (DATABASE_URL pointing at PostgreSQL); not part of `make test`.
Prints the time and query count of the receipt preview (the allocation of a 60-unit
shortage over 1,000 member lines), of recording it (60 refunds and notices), and of the
leader's pages that list the round: the fulfilment overview and the pickup lists.
"""

import statistics
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from fulfillment.services import purchasing, receiving
from orders.models import Order, OrderLine, OrderStatus, PaymentMethod
from scheduling.models import ScheduleItem
from scheduling.services.schedules import schedule_close
from tests.orders.conftest import make_shop

pytestmark = [pytest.mark.bench, pytest.mark.postgres, pytest.mark.django_db]

ORDERS = 1000
SHORT_UNITS = 60
RUNS = 7


def _round():
    """A closed schedule with ORDERS confirmed pay-at-pickup orders (bulk-written: the
    ordering path is measured by the flash-sale benchmark), its purchase order ready."""
    shop = make_shop(allow_pay_at_pickup=True, grapes={"quantity_cap": 5000})
    community, schedule, item = shop.schedule.community, shop.schedule, shop.grapes
    members = User.objects.bulk_create(
        User(phone=f"+86135{n:08d}", display_name=f"团员{n:04d}") for n in range(ORDERS)
    )
    Membership.objects.bulk_create(Membership(user=u, community=community) for u in members)
    now = timezone.now()
    orders = Order.objects.bulk_create(
        Order(
            member=member,
            community=community,
            schedule=schedule,
            pickup_point=shop.point,
            payment_method=PaymentMethod.AT_PICKUP,
            goods_total=item.member_price * (1 + n % 3),
            total=item.member_price * (1 + n % 3),
            status=OrderStatus.CONFIRMED,
            confirmed_at=now - timedelta(seconds=ORDERS - n),
            pickup_code=f"{10_000_000 + n:08d}",
        )
        for n, member in enumerate(members)
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            item=item,
            product_name="阳光玫瑰葡萄",
            spec="500 g x 2",
            unit="盒",
            unit_price=item.member_price,
            quantity=1 + n % 3,
            amount=item.member_price * (1 + n % 3),
        )
        for n, order in enumerate(orders)
    )
    units = OrderLine.objects.filter(item=item).aggregate(total=Sum("quantity"))["total"]
    ScheduleItem.objects.filter(pk=item.pk).update(reserved_qty=units)
    after = schedule.cutoff + timedelta(minutes=1)
    schedule_close(schedule_id=schedule.pk, now=after)
    (purchase_order,) = purchasing.purchase_orders_prepare(schedule=schedule, actor=shop.leader)
    supplier_user = purchase_order.supplier.members.get(is_owner=True).user
    purchasing.purchase_order_send(purchase_order=purchase_order, actor=shop.leader, now=after)
    purchasing.purchase_order_acknowledge(purchase_order=purchase_order, actor=supplier_user)
    purchasing.purchase_order_mark_ready(
        purchase_order=purchase_order, actor=supplier_user, dispatch="shipped"
    )
    line = purchase_order.lines.get()
    spare = line.quantity - line.ordered_units
    counts = {line.pk: (line.quantity - spare - SHORT_UNITS, spare + SHORT_UNITS, 0)}
    return shop, purchase_order, counts


def _timed(function, runs=RUNS):
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        function()
    return result, statistics.median(timings), len(queries)


def _page(client, url):
    def get():
        response = client.get(url)
        assert response.status_code == 200
        return response

    client.get(url)  # warm templates
    return _timed(get)


def test_bench_fulfilment_round(client):
    shop, purchase_order, counts = _round()

    plan, median, queries = _timed(
        lambda: receiving.receipt_plan(purchase_order=purchase_order, counts=counts)
    )
    losses = [loss for item in plan.items for loss in item.losses]
    assert sum(loss.units for loss in losses) == SHORT_UNITS
    print(
        f"\nBENCH receipt preview: orders={ORDERS} short={SHORT_UNITS} "
        f"affected_lines={len(losses)} median={median:.1f}ms queries={queries}"
    )

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        receiving.receipt_apply(purchase_order=purchase_order, actor=shop.leader, counts=counts)
        applied_ms = (time.perf_counter() - started) * 1000
    ready = Order.objects.filter(
        schedule=shop.schedule, status=OrderStatus.READY_FOR_PICKUP
    ).count()
    # Orders that lost every unit are cancelled (and refunded) instead.
    cancelled = Order.objects.filter(schedule=shop.schedule, status=OrderStatus.CANCELLED).count()
    refunded = OrderLine.objects.filter(short_units__gt=0).aggregate(total=Sum("short_units"))[
        "total"
    ]
    assert ready + cancelled == ORDERS and refunded == SHORT_UNITS
    print(
        f"BENCH receipt apply: orders={ORDERS} made_ready={ready} cancelled={cancelled} "
        f"short_units={refunded} "
        f"time={applied_ms:.0f}ms queries={len(captured)}"
    )

    client.force_login(shop.leader)
    for name, url, budget in (
        (
            "fulfilment overview",
            reverse("fulfillment:leader_fulfilment", args=[shop.schedule.pk]),
            30,
        ),
        (
            "pickup lists (HTML)",
            reverse("fulfillment:leader_pickup_lists", args=[shop.schedule.pk]),
            30,
        ),
        (
            "pickup lists (PDF)",
            reverse("fulfillment:leader_pickup_lists_pdf", args=[shop.schedule.pk]),
            30,
        ),
    ):
        response, median, queries = _page(client, url)
        print(
            f"BENCH {name}: orders={ORDERS} median={median:.1f}ms queries={queries} "
            f"bytes={len(response.content)}"
        )
        assert queries <= budget

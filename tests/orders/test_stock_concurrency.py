"""Stock under real concurrency on PostgreSQL: buyers are threads, each with its own
database connection, released together by a barrier once every connection is open.

``order_place`` reserves with one conditional UPDATE per item in primary-key order inside
the order's transaction; these tests check what that promises: never more sold than the
cap, a clear "sold out" for the rest, no deadlock when carts list the same items in
opposite order, per-member limits that hold under a member's own parallel requests, and
the CheckConstraint refusing any write above the cap.
"""

import contextlib
import fcntl
import tempfile
import threading
from collections import Counter
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Sum
from django.utils import translation

from groupbuy.exceptions import DomainError
from orders.models import ACTIVE_ORDER_STATUSES, LineStatus, Order, OrderLine
from scheduling.models import ScheduleItem
from tests.orders.conftest import make_shop

RACE_SECONDS = 120  # the most a whole race may take
GRAPES = "Shine Muscat grapes"
EGGS = "Free-range eggs"


@contextlib.contextmanager
def one_crowd_at_a_time():
    """Races open up to 60 connections; under pytest-xdist two at once (plus the other
    workers' tests) could pass PostgreSQL's max_connections, so they take turns."""
    path = Path(tempfile.gettempdir()) / "tuangou-test-stock-crowd.lock"
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def race(calls) -> list[tuple[str, object]]:
    """Run each callable in its own thread, all released at once by a barrier.

    Returns one ``(kind, value)`` per call, in order: ``("ok", result)``,
    ``("refused", DomainError message)`` or ``("error", repr of any other exception)``.
    """
    results: list[tuple[str, object] | None] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def buyer(index, call):
        try:
            with translation.override("en"):
                connection.ensure_connection()  # every connection open before the start
                barrier.wait(timeout=60)
                try:
                    results[index] = ("ok", call())
                except DomainError as error:
                    results[index] = ("refused", error.message)
        except BaseException as error:  # anything else is what the test looks for
            results[index] = ("error", repr(error))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=buyer, args=(index, call), name=f"buyer-{index}")
        for index, call in enumerate(calls)
    ]
    with one_crowd_at_a_time():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=RACE_SECONDS)
    assert not [thread.name for thread in threads if thread.is_alive()], "a buyer hung"
    return results


def kinds(results) -> Counter:
    return Counter(kind for kind, _value in results)


def errors(results) -> list:
    return [value for kind, value in results if kind == "error"]


def reserved(item) -> int:
    return ScheduleItem.objects.get(pk=item.pk).reserved_qty


def sold_in_lines(item) -> int:
    """Units of ``item`` on active lines of active orders."""
    total = OrderLine.objects.filter(
        item=item, status=LineStatus.ACTIVE, order__status__in=ACTIVE_ORDER_STATUSES
    ).aggregate(total=Sum("quantity"))["total"]
    return total or 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixty_buyers_for_the_last_ten_units_buy_exactly_ten():
    shop = make_shop(grapes={"quantity_cap": 25, "per_member_limit": 5})
    for _ in range(3):  # earlier sales: 15 of 25 gone
        shop.order(shop.new_member(), quantities={shop.grapes.pk: 5})
    assert reserved(shop.grapes) == 15
    buyers = [shop.new_member() for _ in range(60)]

    results = race(
        [
            lambda buyer=buyer: shop.order(buyer, quantities={shop.grapes.pk: 1}).pk
            for buyer in buyers
        ]
    )

    assert errors(results) == []
    assert kinds(results) == {"ok": 10, "refused": 50}
    refusals = {message for kind, message in results if kind == "refused"}
    assert len(refusals) == 1, refusals
    message = refusals.pop()
    assert GRAPES in message and "sold out" in message, message
    assert reserved(shop.grapes) == 25 == shop.grapes.quantity_cap
    winners = {value for kind, value in results if kind == "ok"}
    assert set(Order.objects.filter(member__in=buyers).values_list("pk", flat=True)) == winners
    assert sold_in_lines(shop.grapes) == 25
    assert reserved(shop.eggs) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_items_ordered_in_opposite_order_never_deadlock_nor_oversell():
    shop = make_shop(
        grapes={"quantity_cap": 10, "per_member_limit": 5},
        eggs={"quantity_cap": 10, "per_member_limit": 5},
    )
    grapes, eggs = shop.grapes, shop.eggs
    assert grapes.pk < eggs.pk
    buyers = [shop.new_member() for _ in range(40)]
    carts = [
        {grapes.pk: 1, eggs.pk: 1} if index % 2 == 0 else {eggs.pk: 1, grapes.pk: 1}
        for index in range(len(buyers))
    ]
    assert list(carts[1]) == [eggs.pk, grapes.pk]  # the cart really lists B first

    # A watcher reads both items all through the race.
    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def watch():
        try:
            while not done.is_set():
                rows = dict(
                    ScheduleItem.objects.filter(pk__in=[grapes.pk, eggs.pk]).values_list(
                        "pk", "reserved_qty"
                    )
                )
                seen.append((rows[grapes.pk], rows[eggs.pk]))
        finally:
            connections.close_all()

    watcher = threading.Thread(target=watch, name="watcher")
    watcher.start()
    try:
        results = race(
            [
                lambda buyer=buyer, cart=cart: shop.order(buyer, quantities=cart).pk
                for buyer, cart in zip(buyers, carts, strict=True)
            ]
        )
    finally:
        done.set()
        watcher.join(timeout=30)

    assert errors(results) == []  # no deadlock detected, no other database error
    assert kinds(results) == {"ok": 10, "refused": 30}
    for kind, message in results:
        if kind == "refused":
            assert "sold out" in message and (GRAPES in message or EGGS in message), message
    assert seen, "the watcher never read"
    assert max(g for g, _e in seen) <= 10
    assert max(e for _g, e in seen) <= 10
    assert (reserved(grapes), reserved(eggs)) == (10, 10)
    assert (sold_in_lines(grapes), sold_in_lines(eggs)) == (10, 10)
    winners = Order.objects.filter(member__in=buyers)
    assert winners.count() == 10
    for order in winners:
        assert sorted(order.lines.values_list("item_id", "quantity")) == [
            (grapes.pk, 1),
            (eggs.pk, 1),
        ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_member_racing_herself_stays_within_her_limit():
    shop = make_shop(grapes={"quantity_cap": 50, "per_member_limit": 2})

    results = race(
        [lambda: shop.order(shop.member, quantities={shop.grapes.pk: 1}).pk for _ in range(5)]
    )

    assert errors(results) == []
    assert kinds(results) == {"ok": 2, "refused": 3}
    for kind, message in results:
        if kind == "refused":
            assert GRAPES in message and "limited to 2 per member" in message, message
    assert Order.objects.filter(member=shop.member).count() == 2
    assert reserved(shop.grapes) == 2 == sold_in_lines(shop.grapes)


@pytest.mark.django_db
def test_the_check_constraint_refuses_reserving_above_the_cap():
    """The backstop, on any database: a write that skips the conditional UPDATE."""
    shop = make_shop(grapes={"quantity_cap": 10})
    shop.order(quantities={shop.grapes.pk: 4})
    item = ScheduleItem.objects.filter(pk=shop.grapes.pk)

    with pytest.raises(IntegrityError), transaction.atomic():
        item.update(reserved_qty=F("quantity_cap") + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        item.update(reserved_qty=F("reserved_qty") + 7)

    assert reserved(shop.grapes) == 4
    item.update(reserved_qty=F("quantity_cap"))  # up to the cap is allowed
    assert reserved(shop.grapes) == 10

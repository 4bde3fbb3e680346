"""The fulfilment page's evaluation of the round: planned vs sold vs bought vs received vs
missing vs handed over, per item."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fulfillment.services import pickup
from tests.fulfillment.conftest import make_round

pytestmark = pytest.mark.django_db(transaction=True)


def _row(html: str, item_pk: int) -> dict[str, str]:
    row = re.search(
        rf'<tr data-testid="execution-row" data-item="{item_pk}">(.*?)</tr>', html, re.S
    ).group(1)
    return {
        name: re.search(rf'data-testid="execution-{name}">\s*([^<]*?)\s*<', row).group(1)
        for name in ("planned", "sold", "bought", "received", "missing", "handed-over")
    }


def _page(client, round_):
    return client.get(
        reverse("fulfillment:leader_fulfilment", args=[round_.shop.schedule.pk])
    ).content.decode()


def test_the_round_is_evaluated_per_item(client):
    # Two members: 2 grapes + 1 eggs each; a whole case of eggs (6) is short.
    round_ = make_round(members=2)
    client.force_login(round_.shop.leader)
    before = _row(_page(client, round_), round_.shop.grapes.pk)
    assert before == {
        "planned": "60",
        "sold": "4",
        "bought": "6",
        "received": "—",
        "missing": "—",
        "handed-over": "0",
    }

    round_.receive(eggs=(6, 0))
    first = round_.orders[0]
    first.refresh_from_db()
    pickup.pickup_hand_over(order=first, actor=round_.shop.leader)

    html = _page(client, round_)
    assert _row(html, round_.shop.grapes.pk) == {
        "planned": "60",
        "sold": "4",
        "bought": "6",
        "received": "6",
        "missing": "0",
        "handed-over": "2",
    }
    # Both boxes of eggs were missing: sold 2, received none, none handed over.
    assert _row(html, round_.shop.eggs.pk) == {
        "planned": "60",
        "sold": "2",
        "bought": "6",
        "received": "0",
        "missing": "6",
        "handed-over": "0",
    }


def _queries(client, round_) -> int:
    client.force_login(round_.shop.leader)
    _page(client, round_)  # warm caches
    with CaptureQueriesContext(connection) as queries:
        _page(client, round_)
    return len(queries)


def test_the_evaluation_does_not_grow_with_the_orders(client):
    few, many = make_round(members=1), make_round(members=5)
    for round_ in (few, many):
        round_.receive(eggs=(6, 0))
    assert _queries(client, few) == _queries(client, many)

"""A line none of whose units arrived was refunded whole: nothing to review or claim."""

from decimal import Decimal

import pytest
from django.urls import reverse

from fulfillment.services import aftersales, pickup
from groupbuy.exceptions import DomainError
from tests.fulfillment.conftest import make_round

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_line_that_never_arrived_cannot_be_reviewed_or_claimed(client):
    # One member, one box of eggs: the whole case (6) is short.
    round_ = make_round(members=1)
    round_.receive(eggs=(6, 0))
    order = round_.orders[0]
    order.refresh_from_db()
    pickup.pickup_hand_over(order=order, actor=round_.shop.leader)
    eggs = order.lines.get(item=round_.shop.eggs)
    grapes = order.lines.get(item=round_.shop.grapes)
    assert eggs.units_to_hand_over == 0
    assert eggs.refunded_amount == eggs.amount

    with pytest.raises(DomainError):
        aftersales.review_create(member=order.member, order_line=eggs, rating=5)
    with pytest.raises(DomainError):
        aftersales.after_sales_submit(
            member=order.member,
            order_line=eggs,
            reason="missing",
            description="没收到",
            amount=Decimal("1.00"),
        )

    client.force_login(order.member)
    page = client.get(reverse("orders:member_order", args=[order.number])).content.decode()
    assert reverse("fulfillment:member_review", args=[grapes.pk]) in page
    assert reverse("fulfillment:member_review", args=[eggs.pk]) not in page
    assert reverse("fulfillment:member_after_sales_new", args=[eggs.pk]) not in page

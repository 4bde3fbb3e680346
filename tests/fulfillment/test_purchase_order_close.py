"""Closing a received purchase order (settled with the supplier)."""

import pytest
from django.urls import reverse

from fulfillment.models import PurchaseOrderStatus
from fulfillment.services import purchasing
from groupbuy.exceptions import DomainError
from notifications.models import Notification
from tests.fulfillment.conftest import make_round

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_leader_closes_a_received_purchase_order_and_the_supplier_is_told(client):
    round_ = make_round()
    round_.receive()
    client.force_login(round_.shop.leader)
    url = reverse("fulfillment:leader_purchase_order_close", args=[round_.purchase_order.pk])

    response = client.post(url)

    assert response.status_code == 302
    round_.purchase_order.refresh_from_db()
    assert round_.purchase_order.status == PurchaseOrderStatus.CLOSED
    assert Notification.objects.filter(
        kind="purchase_order_closed", recipient=round_.supplier_user
    ).exists()
    assert client.get(url).status_code == 405


def test_only_a_received_purchase_order_closes():
    round_ = make_round()
    round_.ready()
    with pytest.raises(DomainError):
        purchasing.purchase_order_close(
            purchase_order=round_.purchase_order, actor=round_.shop.leader
        )
    round_.purchase_order.refresh_from_db()
    assert round_.purchase_order.status == PurchaseOrderStatus.READY


def test_another_leader_cannot_close_it(client):
    round_ = make_round()
    round_.receive()
    other = make_round()
    client.force_login(other.shop.leader)

    response = client.post(
        reverse("fulfillment:leader_purchase_order_close", args=[round_.purchase_order.pk])
    )

    assert response.status_code == 404
    round_.purchase_order.refresh_from_db()
    assert round_.purchase_order.status == PurchaseOrderStatus.RECEIVED

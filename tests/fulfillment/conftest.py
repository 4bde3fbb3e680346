"""Fulfilment fixtures: a closed schedule whose orders are paid and confirmed, and helpers
that walk a purchase order through its states."""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import transaction

from accounts.models import User
from fulfillment.models import PurchaseOrder
from fulfillment.services import purchasing, receiving
from orders.models import Order, PaymentMethod
from orders.providers.base import PaymentReport
from orders.services.payments import payment_report_apply, payment_start
from orders.services.review import order_confirm
from sandboxpay import gateway
from sandboxpay.models import Charge
from scheduling.services.schedules import schedule_close
from tests.orders.conftest import Shop, make_shop


def pay_and_confirm(shop: Shop, order: Order) -> Order:
    """Pay an online order at the sandbox (so refunds work) and have the leader confirm it."""
    if order.payment_method == PaymentMethod.ONLINE:
        payment = payment_start(order=order, member=order.member)
        charge = Charge.objects.get(trade_number=payment.trade_number)
        gateway.charge_settle(token=charge.token, paid=True)
        with transaction.atomic():
            payment_report_apply(
                report=PaymentReport(
                    trade_number=payment.trade_number, outcome="paid", amount=payment.amount
                ),
                provider_code="sandbox",
            )
        order.refresh_from_db()
        order = order_confirm(order=order, actor=shop.leader)
    order.refresh_from_db()
    return order


@dataclass
class Round:
    """A schedule after its cut-off with confirmed orders and a prepared purchase order."""

    shop: Shop
    orders: list[Order]
    purchase_order: PurchaseOrder
    supplier_user: User
    after_cutoff: object = field(default=None)

    def line_of(self, item) -> object:
        return self.purchase_order.lines.get(item=item)

    def send(self) -> PurchaseOrder:
        self.purchase_order = purchasing.purchase_order_send(
            purchase_order=self.purchase_order, actor=self.shop.leader, now=self.after_cutoff
        )
        return self.purchase_order

    def ready(self, **kwargs) -> PurchaseOrder:
        """Sent, acknowledged and marked shipped."""
        self.send()
        self.purchase_order = purchasing.purchase_order_acknowledge(
            purchase_order=self.purchase_order, actor=self.supplier_user
        )
        self.purchase_order = purchasing.purchase_order_mark_ready(
            purchase_order=self.purchase_order,
            actor=self.supplier_user,
            dispatch=kwargs.pop("dispatch", "shipped"),
            **kwargs,
        )
        return self.purchase_order

    def counts(self, **missing) -> dict:
        """Receipt counts: everything received except ``grapes=(short, damaged)``."""
        counts = {}
        for line in self.purchase_order.lines.filter(declined=False):
            name = "grapes" if line.item_id == self.shop.grapes.pk else "eggs"
            short, damaged = missing.get(name, (0, 0))
            counts[line.pk] = (line.quantity - short - damaged, short, damaged)
        return counts

    def receive(self, **missing):
        """Ready, then received with ``missing`` (see ``counts``)."""
        self.ready()
        return receiving.receipt_apply(
            purchase_order=self.purchase_order,
            actor=self.shop.leader,
            counts=self.counts(**missing),
        )


def make_round(*, quantities=None, members: int = 2, shop: Shop | None = None, **shop_kwargs):
    """``members`` members each order ``quantities`` (default 2 grapes + 1 eggs), pay and are
    confirmed; the schedule closes; the purchase order is prepared (a draft)."""
    shop = shop or make_shop(**shop_kwargs)
    orders = []
    for index in range(members):
        member = shop.member if index == 0 else shop.new_member()
        order = shop.order(member, quantities=quantities)
        orders.append(pay_and_confirm(shop, order))
    after_cutoff = shop.schedule.cutoff + timedelta(minutes=1)
    schedule_close(schedule_id=shop.schedule.pk, now=after_cutoff)
    (purchase_order,) = purchasing.purchase_orders_prepare(
        schedule=shop.schedule, actor=shop.leader
    )
    supplier_user = purchase_order.supplier.members.get(is_owner=True).user
    return Round(shop, orders, purchase_order, supplier_user, after_cutoff)


@pytest.fixture
def fulfil_round(db) -> Round:
    return make_round()

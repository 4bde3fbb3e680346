"""Who loses the units that did not arrive (fulfillment/services/receiving.py).

``allocate_shortage`` is pure: unit tests over many shapes, then hypothesis properties
(the losses add up to what is missing, no line loses more than it ordered, latest paid
first really takes from the latest paid, proportional never strays a unit from the exact
share). Then the same at receipt level with the database: the refunds add up to exactly
the missing value, no order line is refunded twice, and rounding up to whole cases
absorbs a shortage before any member loses.
"""

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import Offer
from fulfillment.models import PurchaseOrderStatus, ShortageAllocation
from fulfillment.services import purchasing, receiving
from fulfillment.services.receiving import Claim, allocate_shortage
from groupbuy.exceptions import DomainError
from orders.models import Order, OrderLine, OrderStatus, Refund, RefundStatus
from sandboxpay.models import ChargeRefund
from scheduling.models import ShortageRule
from scheduling.services.schedules import schedule_close
from tests.fulfillment.conftest import Round, pay_and_confirm
from tests.orders.conftest import make_shop

LATEST, PROPORTIONAL = ShortageRule.LATEST_PAID_FIRST, ShortageRule.PROPORTIONAL
RULES = [LATEST, PROPORTIONAL]
GRAPES = Decimal("15.00")  # member price of the fixture's grapes


def claims(*quantities) -> list[Claim]:
    """One claim per quantity, paid in the order given (the first paid earliest)."""
    return [
        Claim(line_id=index + 1, quantity=quantity, paid_rank=(index, index + 1))
        for index, quantity in enumerate(quantities)
    ]


# Rounds with a cart per member (shared with the other fulfilment test modules).


def build_round(carts, *, case_size: int | None = None, shop=None, **shop_kwargs) -> Round:
    """A new member per cart (``{"grapes": n, "eggs": m}`` plus order_place keywords such as
    ``method``, ``fulfilment``, ``delivery_address``), paid in that order (or accepted to
    pay at pickup) and confirmed; the schedule closes and the purchase order is prepared.
    ``case_size`` changes both offers' case size first."""
    shop = shop or make_shop(**shop_kwargs)
    if case_size is not None:
        Offer.objects.filter(pk__in=[shop.grapes.offer_id, shop.eggs.offer_id]).update(
            case_size=case_size
        )
    orders = []
    for index, cart in enumerate(carts):
        cart = dict(cart)
        quantities = {}
        for name, item in (("grapes", shop.grapes), ("eggs", shop.eggs)):
            quantity = cart.pop(name, 0)
            if quantity:
                quantities[item.pk] = quantity
        member = shop.member if index == 0 else shop.new_member()
        orders.append(pay_and_confirm(shop, shop.order(member, quantities=quantities, **cart)))
    after_cutoff = shop.schedule.cutoff + timedelta(minutes=1)
    schedule_close(schedule_id=shop.schedule.pk, now=after_cutoff)
    (purchase_order,) = purchasing.purchase_orders_prepare(
        schedule=shop.schedule, actor=shop.leader
    )
    supplier_user = purchase_order.supplier.members.get(is_owner=True).user
    return Round(shop, orders, purchase_order, supplier_user, after_cutoff)


def receive(round_: Round, capture, **missing):
    """Ready, then received with ``grapes=(short, damaged)``; refunds sent after commit."""
    with capture(execute=True):
        return round_.receive(**missing)


def grapes_line(order: Order) -> OrderLine:
    return OrderLine.objects.get(order=order, product_name="阳光玫瑰葡萄")


# allocate_shortage: shapes


@pytest.mark.parametrize("rule", RULES)
def test_one_line_loses_what_is_missing(rule):
    assert allocate_shortage(claims(5), 2, rule) == {1: 2}


def test_latest_paid_first_takes_the_latest_line_first():
    assert allocate_shortage(claims(2, 3, 1), 1, LATEST) == {3: 1}
    assert allocate_shortage(claims(2, 3, 1), 2, LATEST) == {3: 1, 2: 1}


def test_shortage_larger_than_one_order_moves_on_to_the_next():
    assert allocate_shortage(claims(2, 3, 1), 3, LATEST) == {3: 1, 2: 2}
    assert allocate_shortage(claims(2, 3, 1), 5, LATEST) == {3: 1, 2: 3, 1: 1}


@pytest.mark.parametrize("rule", RULES)
def test_shortage_equal_to_everything_takes_every_unit(rule):
    assert allocate_shortage(claims(2, 3, 1), 6, rule) == {1: 2, 2: 3, 3: 1}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("missing", [7, 100])
def test_shortage_larger_than_everything_is_capped(rule, missing):
    assert allocate_shortage(claims(2, 3, 1), missing, rule) == {1: 2, 2: 3, 3: 1}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("missing", [0, -3])
def test_nothing_missing_takes_nothing(rule, missing):
    assert allocate_shortage(claims(2, 3, 1), missing, rule) == {}


@pytest.mark.parametrize("rule", RULES)
def test_no_claims_no_losses(rule):
    assert allocate_shortage([], 4, rule) == {}


def test_ties_in_paid_time_go_to_the_later_order():
    """Two orders paid at the same moment: the later order (higher id) loses first."""
    tied = [
        Claim(line_id=10, quantity=2, paid_rank=(100, 7, 10)),
        Claim(line_id=11, quantity=2, paid_rank=(100, 9, 11)),
        Claim(line_id=12, quantity=2, paid_rank=(50, 12, 12)),  # paid earlier
    ]
    assert allocate_shortage(tied, 1, LATEST) == {11: 1}
    assert allocate_shortage(tied, 3, LATEST) == {11: 2, 10: 1}
    assert allocate_shortage(tied, 1, PROPORTIONAL) == {11: 1}
    assert allocate_shortage(tied, 2, PROPORTIONAL) == {11: 1, 10: 1}


def test_proportional_shares_in_proportion():
    assert allocate_shortage(claims(2, 4, 6), 6, PROPORTIONAL) == {1: 1, 2: 2, 3: 3}
    # Exact shares 0.5, 1, 1.5: the leftover unit goes to the larger remainder, the latest
    # paid among equal remainders.
    assert allocate_shortage(claims(2, 4, 6), 3, PROPORTIONAL) == {2: 1, 3: 2}
    assert allocate_shortage(claims(1, 1, 1), 1, PROPORTIONAL) == {3: 1}
    assert allocate_shortage(claims(1, 1, 1), 2, PROPORTIONAL) == {3: 1, 2: 1}
    # A larger remainder wins over paying later: shares 2 * 4/12 = 0.67 and 10 * 4/12 = 3.33.
    assert allocate_shortage(claims(2, 10), 4, PROPORTIONAL) == {1: 1, 2: 3}
    # Equal remainders (shares 0.5 and 4.5): the later payer takes the leftover unit.
    assert allocate_shortage(claims(1, 9), 5, PROPORTIONAL) == {2: 5}


def test_the_rules_differ_on_the_same_shape():
    assert allocate_shortage(claims(4, 4), 4, LATEST) == {2: 4}
    assert allocate_shortage(claims(4, 4), 4, PROPORTIONAL) == {1: 2, 2: 2}


def test_unknown_rule_falls_back_to_latest_paid_first():
    assert allocate_shortage(claims(2, 2), 1, "") == {2: 1}


# allocate_shortage: properties

claim_specs = st.lists(
    st.tuples(st.integers(1, 40), st.integers(0, 4)),  # (quantity, paid moment; ties likely)
    min_size=0,
    max_size=12,
)


def spec_claims(specs) -> list[Claim]:
    return [
        Claim(line_id=100 + index, quantity=quantity, paid_rank=(moment, index))
        for index, (quantity, moment) in enumerate(specs)
    ]


@st.composite
def shapes(draw):
    specs = draw(claim_specs)
    total = sum(quantity for quantity, _moment in specs)
    missing = draw(st.integers(0, total))
    return spec_claims(specs), missing


def check_basic(all_claims, missing, losses):
    total = sum(claim.quantity for claim in all_claims)
    quantities = {claim.line_id: claim.quantity for claim in all_claims}
    assert sum(losses.values()) == min(max(missing, 0), total)
    assert set(losses) <= set(quantities)
    for line_id, units in losses.items():
        assert 0 < units <= quantities[line_id]


@given(shapes(), st.sampled_from(RULES))
def test_losses_add_up_to_what_is_missing(shape, rule):
    all_claims, missing = shape
    check_basic(all_claims, missing, allocate_shortage(all_claims, missing, rule))


@given(claim_specs, st.integers(0, 500), st.sampled_from(RULES))
def test_any_shortage_is_capped_at_what_was_ordered(specs, missing, rule):
    all_claims = spec_claims(specs)
    losses = allocate_shortage(all_claims, missing, rule)
    check_basic(all_claims, missing, losses)
    if missing >= sum(quantity for quantity, _moment in specs):
        assert losses == {claim.line_id: claim.quantity for claim in all_claims if claim.quantity}


@given(shapes())
def test_latest_paid_first_never_spares_a_later_line(shape):
    """No earlier-paid line loses a unit while a later-paid line keeps one."""
    all_claims, missing = shape
    losses = allocate_shortage(all_claims, missing, LATEST)
    for earlier in all_claims:
        for later in all_claims:
            if earlier.paid_rank < later.paid_rank and losses.get(earlier.line_id):
                assert losses.get(later.line_id, 0) == later.quantity


@given(shapes())
def test_proportional_stays_within_a_unit_of_the_exact_share(shape):
    all_claims, missing = shape
    losses = allocate_shortage(all_claims, missing, PROPORTIONAL)
    total = sum(claim.quantity for claim in all_claims)
    for claim in all_claims:
        exact = Fraction(claim.quantity * missing, total)
        assert abs(losses.get(claim.line_id, 0) - exact) < 1


@given(shapes())
def test_proportional_favours_the_earlier_paid_among_equals(shape):
    """Two lines of the same size: the later paid never loses less than the earlier."""
    all_claims, missing = shape
    losses = allocate_shortage(all_claims, missing, PROPORTIONAL)
    for earlier in all_claims:
        for later in all_claims:
            if earlier.quantity == later.quantity and earlier.paid_rank < later.paid_rank:
                assert losses.get(later.line_id, 0) >= losses.get(earlier.line_id, 0)


@given(shapes(), st.sampled_from(RULES), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_the_claims(shape, rule, random):
    all_claims, missing = shape
    shuffled = list(all_claims)
    random.shuffle(shuffled)
    assert allocate_shortage(shuffled, missing, rule) == allocate_shortage(
        all_claims, missing, rule
    )


# Receipt with the database: explicit shapes


@pytest.mark.django_db
def test_rounding_up_to_whole_cases_absorbs_a_shortage_first(django_capture_on_commit_callbacks):
    """Members ordered 4 grapes, the supplier packs cases of 6: 2 short hurts nobody."""
    round_ = build_round([{"grapes": 2}, {"grapes": 2}])
    line = round_.line_of(round_.shop.grapes)
    assert (line.ordered_units, line.quantity, line.case_size) == (4, 6, 6)
    plan = receive(round_, django_capture_on_commit_callbacks, grapes=(1, 1))
    (item,) = plan.items
    assert (item.received, item.short, item.damaged) == (4, 1, 1)
    assert item.missing_for_members == 0
    assert item.losses == [] and plan.refund_total == 0 and plan.affected_orders == 0
    assert not ShortageAllocation.objects.exists()
    assert not Refund.objects.exists()
    for order in round_.orders:
        order.refresh_from_db()
        assert order.status == OrderStatus.READY_FOR_PICKUP
        assert grapes_line(order).short_units == 0


@pytest.mark.django_db
def test_one_unit_past_the_spare_units_costs_the_latest_payer_one(
    django_capture_on_commit_callbacks,
):
    round_ = build_round([{"grapes": 2}, {"grapes": 2}])
    plan = receive(round_, django_capture_on_commit_callbacks, grapes=(3, 0))
    first, last = round_.orders
    allocation = ShortageAllocation.objects.get()
    assert allocation.order_line == grapes_line(last)
    assert (allocation.units, allocation.amount) == (1, GRAPES)
    assert plan.refund_total == GRAPES
    assert grapes_line(first).short_units == 0
    assert grapes_line(last).short_units == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rule", "expected"),
    [(LATEST, [0, 1, 2]), (PROPORTIONAL, [1, 1, 1])],
    ids=["latest_paid_first", "proportional"],
)
def test_damaged_and_short_together(rule, expected, django_capture_on_commit_callbacks):
    """Three members, 2 grapes each (one full case): 2 short and 1 damaged are 3 missing."""
    round_ = build_round([{"grapes": 2}] * 3, shortage_rule=rule)
    line = round_.line_of(round_.shop.grapes)
    assert (line.ordered_units, line.quantity) == (6, 6)
    plan = receive(round_, django_capture_on_commit_callbacks, grapes=(2, 1))
    assert plan.rule == rule
    assert plan.items[0].missing_for_members == 3
    assert [grapes_line(order).short_units for order in round_.orders] == expected
    assert sum(a.amount for a in ShortageAllocation.objects.all()) == 3 * GRAPES
    line.refresh_from_db()
    assert (line.received_quantity, line.short_quantity, line.damaged_quantity) == (3, 2, 1)
    assert line.missing_units == 3


@pytest.mark.django_db
def test_shortage_larger_than_an_order_spills_onto_the_next(django_capture_on_commit_callbacks):
    round_ = build_round([{"grapes": 3}, {"grapes": 1}, {"grapes": 2}])  # 6 = one case
    receive(round_, django_capture_on_commit_callbacks, grapes=(3, 1))  # 4 missing
    assert [grapes_line(order).short_units for order in round_.orders] == [1, 1, 2]


@pytest.mark.django_db
def test_tied_payment_times_cost_the_later_order(django_capture_on_commit_callbacks):
    round_ = build_round([{"grapes": 3}, {"grapes": 3}])
    first, second = round_.orders
    Order.objects.filter(pk__in=[first.pk, second.pk]).update(paid_at=first.paid_at)
    receive(round_, django_capture_on_commit_callbacks, grapes=(1, 0))
    assert [grapes_line(order).short_units for order in round_.orders] == [0, 1]


@pytest.mark.django_db
def test_the_earlier_payment_decides_not_the_order_placed_first(
    django_capture_on_commit_callbacks,
):
    round_ = build_round([{"grapes": 3}, {"grapes": 3}])
    first, second = round_.orders
    # The order placed first paid last.
    Order.objects.filter(pk=first.pk).update(paid_at=second.paid_at + timedelta(minutes=5))
    receive(round_, django_capture_on_commit_callbacks, grapes=(1, 0))
    assert [grapes_line(order).short_units for order in round_.orders] == [1, 0]


@pytest.mark.django_db
def test_units_not_shipped_count_as_short(django_capture_on_commit_callbacks):
    round_ = build_round([{"grapes": 3}, {"grapes": 3}])
    line = round_.line_of(round_.shop.grapes)
    round_.send()
    purchasing.purchase_order_acknowledge(
        purchase_order=round_.purchase_order, actor=round_.supplier_user
    )
    purchasing.purchase_order_mark_ready(
        purchase_order=round_.purchase_order,
        actor=round_.supplier_user,
        dispatch="shipped",
        shipped={line.pk: 4},
    )
    with django_capture_on_commit_callbacks(execute=True):
        receiving.receipt_apply(
            purchase_order=round_.purchase_order,
            actor=round_.shop.leader,
            counts={line.pk: (4, 2, 0)},
        )
    assert [grapes_line(order).short_units for order in round_.orders] == [0, 2]


@pytest.mark.django_db
def test_no_order_line_is_refunded_twice(django_capture_on_commit_callbacks):
    round_ = build_round([{"grapes": 3}, {"grapes": 3}])
    counts = round_.counts(grapes=(2, 1))
    receive(round_, django_capture_on_commit_callbacks, grapes=(2, 1))
    allocation = ShortageAllocation.objects.get()
    before = (Refund.objects.count(), ChargeRefund.objects.count())
    # A second receipt is refused before anything is written.
    with pytest.raises(DomainError, match="once the supplier has marked them ready"):
        receiving.receipt_apply(
            purchase_order=round_.purchase_order, actor=round_.shop.leader, counts=counts
        )
    assert (Refund.objects.count(), ChargeRefund.objects.count()) == before
    assert grapes_line(round_.orders[1]).short_units == 3
    round_.purchase_order.refresh_from_db()
    assert round_.purchase_order.status == PurchaseOrderStatus.RECEIVED
    # The database refuses a second allocation of the same purchase line to the same line.
    with pytest.raises(IntegrityError), transaction.atomic():
        ShortageAllocation.objects.create(
            purchase_line=allocation.purchase_line,
            order_line=allocation.order_line,
            units=1,
            amount=GRAPES,
        )
    # ...and a line cannot be short of more units than it has.
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=allocation.order_line_id).update(short_units=4)


# Receipt with the database: properties


@st.composite
def receipts(draw):
    carts = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    case_size = draw(st.sampled_from([1, 4, 6]))
    ordered = sum(carts)
    quantity = -(-ordered // case_size) * case_size
    received = draw(st.integers(0, quantity))
    damaged = draw(st.integers(0, quantity - received))
    rule = draw(st.sampled_from(RULES))
    return carts, case_size, (quantity - received - damaged, damaged), rule


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shape=receipts())
def test_receipt_refunds_exactly_the_missing_value(shape, django_capture_on_commit_callbacks):
    carts, case_size, (short, damaged), rule = shape
    round_ = build_round(
        [{"grapes": quantity} for quantity in carts], case_size=case_size, shortage_rule=rule
    )
    line = round_.line_of(round_.shop.grapes)
    received = line.quantity - short - damaged
    missing = max(0, sum(carts) - received)
    refunds_before = set(Refund.objects.values_list("pk", flat=True))

    plan = receive(round_, django_capture_on_commit_callbacks, grapes=(short, damaged))

    allocations = list(ShortageAllocation.objects.filter(purchase_line=line))
    assert plan.items[0].missing_for_members == missing
    assert sum(a.units for a in allocations) == missing
    assert sum(a.amount for a in allocations) == plan.refund_total == missing * GRAPES
    # One allocation per order line, each refunded once, for exactly its units.
    assert len({a.order_line_id for a in allocations}) == len(allocations)
    for allocation in allocations:
        order_line = OrderLine.objects.get(pk=allocation.order_line_id)
        assert 0 < allocation.units <= order_line.quantity
        assert order_line.short_units == allocation.units
        assert allocation.amount == allocation.units * order_line.unit_price
        assert order_line.refunded_amount == allocation.amount
        refund = allocation.refund
        assert (refund.line_id, refund.amount) == (order_line.pk, allocation.amount)
    new_refunds = Refund.objects.exclude(pk__in=refunds_before)
    assert sorted(r.pk for r in new_refunds) == sorted(a.refund_id for a in allocations)
    assert {r.status for r in new_refunds} <= {RefundStatus.SUCCEEDED}
    assert (
        sum(
            ChargeRefund.objects.filter(
                refund_number__in=[r.refund_number for r in new_refunds]
            ).values_list("amount", flat=True),
            Decimal(0),
        )
        == missing * GRAPES
    )
    # Latest paid first: no earlier payer lost a unit while a later one kept any.
    lines = [grapes_line(order) for order in round_.orders]
    if rule == LATEST:
        for index, earlier in enumerate(lines):
            if earlier.short_units:
                assert all(later.units_to_hand_over == 0 for later in lines[index + 1 :])
    # Every order is ready, or cancelled when nothing of it arrived.
    for order, order_line in zip(round_.orders, lines, strict=True):
        order.refresh_from_db()
        expected = (
            OrderStatus.READY_FOR_PICKUP if order_line.units_to_hand_over else OrderStatus.CANCELLED
        )
        assert order.status == expected
        assert order.refunded_total == order_line.refunded_amount

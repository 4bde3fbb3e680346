"""Every (state, transition) pair of the Offer and SupplierContract machines (DESIGN.md §4)."""

import itertools
from datetime import timedelta

import pytest
from django.db import transaction
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from catalog import services
from catalog.models import ContractStatus, Offer, OfferStatus, SupplierContract
from tests.catalog.conftest import make_product, offer_terms

pytestmark = pytest.mark.django_db

O = OfferStatus  # noqa: E741
C = ContractStatus

OFFER_STATES = list(O)
OFFER_TRANSITIONS = [
    "submit",
    "approve",
    "reject",
    "request_changes",
    "suspend",
    "reinstate",
    "withdraw",
    "expire",
    "supersede",
]
# draft -> submitted -> approved | rejected | changes_requested; changes_requested ->
# submitted; approved -> suspended -> approved; approved -> withdrawn | expired |
# superseded; a suspended offer is superseded too when its revision is approved.
OFFER_ALLOWED = {
    (O.DRAFT, "submit"): O.SUBMITTED,
    (O.CHANGES_REQUESTED, "submit"): O.SUBMITTED,
    (O.SUBMITTED, "approve"): O.APPROVED,
    (O.SUBMITTED, "reject"): O.REJECTED,
    (O.SUBMITTED, "request_changes"): O.CHANGES_REQUESTED,
    (O.APPROVED, "suspend"): O.SUSPENDED,
    (O.SUSPENDED, "reinstate"): O.APPROVED,
    (O.APPROVED, "withdraw"): O.WITHDRAWN,
    (O.APPROVED, "expire"): O.EXPIRED,
    (O.APPROVED, "supersede"): O.SUPERSEDED,
    (O.SUSPENDED, "supersede"): O.SUPERSEDED,
}

CONTRACT_STATES = list(C)
CONTRACT_TRANSITIONS = ["sign", "expire", "terminate"]
# pending_signature -> active -> expired | terminated; pending_signature -> terminated.
CONTRACT_ALLOWED = {
    (C.PENDING_SIGNATURE, "sign"): C.ACTIVE,
    (C.ACTIVE, "expire"): C.EXPIRED,
    (C.ACTIVE, "terminate"): C.TERMINATED,
    (C.PENDING_SIGNATURE, "terminate"): C.TERMINATED,
}


def _declared(model) -> dict:
    return {
        (t.source, t.name): t.target
        for t in model._meta.get_field("status").get_all_transitions(model)
    }


def _pairs(states, transitions, allowed, *, allowed_ones: bool):
    return [
        pair for pair in itertools.product(states, transitions) if (pair in allowed) == allowed_ones
    ]


# Reaching each state through the services, as in production.


def _approved(supplier, staff, owner, product=None) -> Offer:
    offer = services.offer_create(product=product or make_product(supplier), **offer_terms())
    services.offer_submit(offer=offer, actor=owner)
    return services.offer_approve(offer=offer, actor=staff)


def make_offer(state, supplier, staff) -> Offer:
    owner = supplier.members.get(is_owner=True).user
    if state == O.DRAFT:
        return services.offer_create(product=make_product(supplier), **offer_terms())
    if state in (O.SUBMITTED, O.REJECTED, O.CHANGES_REQUESTED):
        offer = services.offer_create(product=make_product(supplier), **offer_terms())
        offer = services.offer_submit(offer=offer, actor=owner)
        if state == O.REJECTED:
            offer = services.offer_reject(offer=offer, actor=staff, reason="图片不清楚")
        elif state == O.CHANGES_REQUESTED:
            offer = services.offer_request_changes(offer=offer, actor=staff, reason="价格偏高")
        return offer
    offer = _approved(supplier, staff, owner)
    if state == O.SUSPENDED:
        offer = services.offer_suspend(offer=offer, actor=staff, reason="投诉")
    elif state == O.WITHDRAWN:
        offer = services.offer_withdraw(offer=offer, actor=owner)
    elif state == O.EXPIRED:
        assert services.offers_expire_due(today=offer.valid_until + timedelta(days=1)) == 1
    elif state == O.SUPERSEDED:
        revision = services.offer_revise(offer=offer, actor=owner)
        services.offer_submit(offer=revision, actor=owner)
        services.offer_approve(offer=revision, actor=staff)
    offer = Offer.objects.get(pk=offer.pk)
    assert offer.status == state
    return offer


def make_contract(state, supplier, staff) -> SupplierContract:
    owner = supplier.members.get(is_owner=True).user
    _approved(supplier, staff, owner)
    contract = supplier.contracts.get(status=C.PENDING_SIGNATURE)
    if state in (C.ACTIVE, C.EXPIRED):
        contract = services.contract_sign(
            contract=contract, actor=owner, typed_name="张三", agreed=True, ip="127.0.0.1"
        )
    if state == C.EXPIRED:
        assert services.contracts_expire_due(today=contract.valid_until + timedelta(days=1)) == 1
    elif state == C.TERMINATED:
        contract = services.contract_terminate(contract=contract, actor=staff, reason="违约")
    contract = SupplierContract.objects.get(pk=contract.pk)
    assert contract.status == state
    return contract


# The machines are exactly the documented ones.


def test_offer_machine_has_exactly_the_documented_transitions():
    assert _declared(Offer) == {(str(s), n): str(t) for (s, n), t in OFFER_ALLOWED.items()}


def test_contract_machine_has_exactly_the_documented_transitions():
    assert _declared(SupplierContract) == {
        (str(s), n): str(t) for (s, n), t in CONTRACT_ALLOWED.items()
    }


def test_every_pair_is_either_allowed_or_forbidden():
    offer_pairs = set(itertools.product(OFFER_STATES, OFFER_TRANSITIONS))
    assert len(offer_pairs) == 81
    assert set(OFFER_ALLOWED) <= offer_pairs
    contract_pairs = set(itertools.product(CONTRACT_STATES, CONTRACT_TRANSITIONS))
    assert len(contract_pairs) == 12
    assert set(CONTRACT_ALLOWED) <= contract_pairs


# Offer


@pytest.mark.parametrize(
    ("state", "transition"),
    _pairs(OFFER_STATES, OFFER_TRANSITIONS, OFFER_ALLOWED, allowed_ones=True),
    ids=str,
)
def test_offer_allowed_transition(approved_supplier, catalog_staff, state, transition):
    offer = make_offer(state, approved_supplier, catalog_staff)
    getattr(offer, transition)()
    assert offer.status == OFFER_ALLOWED[(state, transition)]
    offer.save()
    assert Offer.objects.get(pk=offer.pk).status == OFFER_ALLOWED[(state, transition)]


@pytest.mark.parametrize(
    ("state", "transition"),
    _pairs(OFFER_STATES, OFFER_TRANSITIONS, OFFER_ALLOWED, allowed_ones=False),
    ids=str,
)
def test_offer_forbidden_transition(approved_supplier, catalog_staff, state, transition):
    offer = make_offer(state, approved_supplier, catalog_staff)
    with pytest.raises(TransitionNotAllowed):
        getattr(offer, transition)()
    assert offer.status == state
    assert Offer.objects.get(pk=offer.pk).status == state


def test_offer_status_is_protected(approved_supplier, catalog_staff):
    offer = make_offer(O.SUBMITTED, approved_supplier, catalog_staff)
    with pytest.raises(AttributeError):
        offer.status = O.APPROVED
    assert offer.status == O.SUBMITTED


def test_offer_refresh_from_db_works_on_protected_field(approved_supplier, catalog_staff):
    offer = make_offer(O.SUBMITTED, approved_supplier, catalog_staff)
    Offer.objects.filter(pk=offer.pk).update(status=O.APPROVED)
    offer.refresh_from_db()
    assert offer.status == O.APPROVED


def test_offer_two_stale_copies_cannot_both_transition(approved_supplier, catalog_staff):
    offer = make_offer(O.SUBMITTED, approved_supplier, catalog_staff)
    first = Offer.objects.get(pk=offer.pk)
    second = Offer.objects.get(pk=offer.pk)

    first.approve()
    first.save()

    second.reject()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        second.save()
    assert Offer.objects.get(pk=offer.pk).status == O.APPROVED


# SupplierContract


@pytest.mark.parametrize(
    ("state", "transition"),
    _pairs(CONTRACT_STATES, CONTRACT_TRANSITIONS, CONTRACT_ALLOWED, allowed_ones=True),
    ids=str,
)
def test_contract_allowed_transition(approved_supplier, catalog_staff, state, transition):
    contract = make_contract(state, approved_supplier, catalog_staff)
    getattr(contract, transition)()
    assert contract.status == CONTRACT_ALLOWED[(state, transition)]
    contract.save()
    fresh = SupplierContract.objects.get(pk=contract.pk)
    assert fresh.status == CONTRACT_ALLOWED[(state, transition)]


@pytest.mark.parametrize(
    ("state", "transition"),
    _pairs(CONTRACT_STATES, CONTRACT_TRANSITIONS, CONTRACT_ALLOWED, allowed_ones=False),
    ids=str,
)
def test_contract_forbidden_transition(approved_supplier, catalog_staff, state, transition):
    contract = make_contract(state, approved_supplier, catalog_staff)
    with pytest.raises(TransitionNotAllowed):
        getattr(contract, transition)()
    assert contract.status == state
    assert SupplierContract.objects.get(pk=contract.pk).status == state


def test_contract_status_is_protected(approved_supplier, catalog_staff):
    contract = make_contract(C.PENDING_SIGNATURE, approved_supplier, catalog_staff)
    with pytest.raises(AttributeError):
        contract.status = C.ACTIVE
    assert contract.status == C.PENDING_SIGNATURE


def test_contract_two_stale_copies_cannot_both_transition(approved_supplier, catalog_staff):
    contract = make_contract(C.ACTIVE, approved_supplier, catalog_staff)
    first = SupplierContract.objects.get(pk=contract.pk)
    second = SupplierContract.objects.get(pk=contract.pk)

    first.terminate()
    first.save()

    second.expire()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        second.save()
    assert SupplierContract.objects.get(pk=contract.pk).status == C.TERMINATED


def test_contract_service_refuses_a_second_decision_on_a_stale_copy(
    approved_supplier, catalog_staff
):
    """The services lock and reload, so a stale copy cannot end a contract twice."""
    contract = make_contract(C.ACTIVE, approved_supplier, catalog_staff)
    stale = SupplierContract.objects.get(pk=contract.pk)
    services.contract_terminate(contract=contract, actor=catalog_staff, reason="违约")

    with pytest.raises(TransitionNotAllowed):
        services.contract_terminate(contract=stale, actor=catalog_staff, reason="再次")
    assert SupplierContract.objects.get(pk=contract.pk).ended_reason == "违约"

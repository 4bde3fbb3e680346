"""Offer review and supplier contracts through the services: audit, notices, listing."""

import contextlib
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ReviewStatus, SupplierOrganization
from catalog import selectors, services
from catalog.models import ContractStatus, Offer, OfferStatus, SupplierContract
from groupbuy.exceptions import DomainError
from groupbuy.models import StateChange
from notifications.models import Notification
from tests.catalog.conftest import make_listed_offer, make_product, offer_terms
from tests.factories import StaffFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(approved_supplier, supplier_owner):
    user = UserFactory()
    account_services.supplier_member_add(
        supplier=approved_supplier, actor=supplier_owner, login=str(user.phone)
    )
    return user


@pytest.fixture
def submitted(product, supplier_owner):
    offer = services.offer_create(product=product, **offer_terms())
    return services.offer_submit(offer=offer, actor=supplier_owner)


def _changes(subject):
    return StateChange.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk
    )


def _notices(kind, about=None):
    notices = Notification.objects.filter(kind=kind)
    if about is not None:
        notices = notices.filter(
            content_type=ContentType.objects.get_for_model(about), object_id=about.pk
        )
    return notices


def _approve(offer, staff):
    return services.offer_approve(offer=offer, actor=staff)


def _sign(supplier, owner):
    contract = supplier.contracts.get(status=ContractStatus.PENDING_SIGNATURE)
    return services.contract_sign(
        contract=contract, actor=owner, typed_name="张三", agreed=True, ip="10.0.0.8"
    )


def _listed_ids(**kwargs):
    return set(selectors.listed_offers(**kwargs).values_list("pk", flat=True))


# Approval


def test_approve_records_the_change_and_notifies_every_team_member(
    submitted, catalog_staff, supplier_owner, colleague
):
    offer = _approve(submitted, catalog_staff)

    assert offer.status == OfferStatus.APPROVED
    assert offer.decided_at is not None
    change = _changes(offer).get(transition="approve")
    assert (change.actor, change.from_state, change.to_state) == (
        catalog_staff,
        OfferStatus.SUBMITTED,
        OfferStatus.APPROVED,
    )
    recipients = set(_notices("offer_approved", offer).values_list("recipient", flat=True))
    assert recipients == {supplier_owner.pk, colleague.pk}


def test_first_approval_issues_one_pending_contract(
    submitted, catalog_staff, approved_supplier, supplier_owner, colleague
):
    _approve(submitted, catalog_staff)

    contract = approved_supplier.contracts.get()
    assert contract.status == ContractStatus.PENDING_SIGNATURE
    assert contract.issued_by == catalog_staff
    assert contract.terms_version and contract.terms_text and contract.fee_terms
    assert contract.valid_until > contract.valid_from
    issue = _changes(contract).get()
    assert (issue.transition, issue.to_state) == ("issue", ContractStatus.PENDING_SIGNATURE)
    recipients = set(_notices("contract_issued", contract).values_list("recipient", flat=True))
    assert recipients == {supplier_owner.pk, colleague.pk}


@pytest.mark.parametrize("signed", [False, True], ids=["pending", "active"])
def test_a_second_approval_issues_no_contract(
    submitted, catalog_staff, approved_supplier, supplier_owner, signed
):
    _approve(submitted, catalog_staff)
    if signed:
        _sign(approved_supplier, supplier_owner)
    second = services.offer_create(product=make_product(approved_supplier), **offer_terms())
    services.offer_submit(offer=second, actor=supplier_owner)

    _approve(second, catalog_staff)

    assert approved_supplier.contracts.count() == 1
    assert _notices("contract_issued").count() == 1


def test_after_termination_the_next_approval_issues_a_new_contract(
    approved_supplier, supplier_owner, catalog_staff
):
    make_listed_offer(approved_supplier, catalog_staff)
    old = approved_supplier.contracts.get()
    services.contract_terminate(contract=old, actor=catalog_staff, reason="违约")

    offer = services.offer_create(product=make_product(approved_supplier), **offer_terms())
    services.offer_submit(offer=offer, actor=supplier_owner)
    _approve(offer, catalog_staff)

    new = approved_supplier.contracts.exclude(pk=old.pk).get()
    assert new.status == ContractStatus.PENDING_SIGNATURE


# Decisions that need a reason


DECISIONS_WITH_REASON = {
    "reject": (services.offer_reject, OfferStatus.SUBMITTED, OfferStatus.REJECTED),
    "request_changes": (
        services.offer_request_changes,
        OfferStatus.SUBMITTED,
        OfferStatus.CHANGES_REQUESTED,
    ),
    "suspend": (services.offer_suspend, OfferStatus.APPROVED, OfferStatus.SUSPENDED),
}
KINDS = {
    "reject": "offer_rejected",
    "request_changes": "offer_changes_requested",
    "suspend": "offer_suspended",
}


def _offer_in(state, product, owner, staff):
    offer = services.offer_create(product=product, **offer_terms())
    services.offer_submit(offer=offer, actor=owner)
    if state == OfferStatus.APPROVED:
        _approve(offer, staff)
    return Offer.objects.get(pk=offer.pk)


@pytest.mark.parametrize("decision", DECISIONS_WITH_REASON)
@pytest.mark.parametrize("reason", ["", "   \n "])
def test_decision_needs_a_reason(
    decision, reason, product, supplier_owner, catalog_staff, approved_supplier
):
    service, source, _target = DECISIONS_WITH_REASON[decision]
    offer = _offer_in(source, product, supplier_owner, catalog_staff)
    changes, notices = StateChange.objects.count(), Notification.objects.count()

    with pytest.raises(DomainError) as caught:
        service(offer=offer, actor=catalog_staff, reason=reason)

    assert caught.value.field == "reason"
    offer.refresh_from_db()
    assert offer.status == source
    assert offer.review_reason == ""
    assert StateChange.objects.count() == changes
    assert Notification.objects.count() == notices


@pytest.mark.parametrize("decision", DECISIONS_WITH_REASON)
def test_decision_with_reason_is_recorded_and_told(
    decision, product, supplier_owner, catalog_staff
):
    service, source, target = DECISIONS_WITH_REASON[decision]
    offer = _offer_in(source, product, supplier_owner, catalog_staff)

    offer = service(offer=offer, actor=catalog_staff, reason="  图片与实物不符  ")

    assert offer.status == target
    assert offer.review_reason == "图片与实物不符"
    change = _changes(offer).get(transition=decision)
    assert (change.actor, change.from_state, change.to_state, change.reason) == (
        catalog_staff,
        source,
        target,
        "图片与实物不符",
    )
    notice = _notices(KINDS[decision], offer).get()
    assert notice.recipient == supplier_owner
    assert notice.context["reason"] == "图片与实物不符"


def test_reinstate_records_and_notifies(approved_supplier, supplier_owner, catalog_staff):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    services.offer_suspend(offer=offer, actor=catalog_staff, reason="投诉")

    offer = services.offer_reinstate(offer=offer, actor=catalog_staff)

    assert offer.status == OfferStatus.APPROVED
    change = _changes(offer).get(transition="reinstate")
    assert (change.from_state, change.to_state, change.actor) == (
        OfferStatus.SUSPENDED,
        OfferStatus.APPROVED,
        catalog_staff,
    )
    assert _notices("offer_reinstated", offer).get().recipient == supplier_owner


# Revisions


@pytest.mark.parametrize("suspend_first", [False, True], ids=["approved", "suspended"])
def test_approving_a_revision_supersedes_the_previous_offer(
    approved_supplier, supplier_owner, catalog_staff, suspend_first
):
    original = make_listed_offer(approved_supplier, catalog_staff)
    revision = services.offer_revise(offer=original, actor=supplier_owner)
    services.offer_update(offer=revision, **offer_terms(supply_price=Decimal("9.50")))
    services.offer_submit(offer=revision, actor=supplier_owner)
    if suspend_first:
        services.offer_suspend(offer=original, actor=catalog_staff, reason="投诉")
    # Until the revision is decided, the approved offer stays listed.
    assert _listed_ids() == (set() if suspend_first else {original.pk})

    _approve(revision, catalog_staff)

    original.refresh_from_db()
    assert original.status == OfferStatus.SUPERSEDED
    change = _changes(original).get(transition="supersede")
    assert change.actor == catalog_staff
    assert change.reason == f"#{revision.pk}"
    assert _listed_ids() == {revision.pk}
    # The active contract covers the revision: no new contract.
    assert approved_supplier.contracts.count() == 1


def test_rejecting_a_revision_keeps_the_approved_offer_listed(
    approved_supplier, supplier_owner, catalog_staff
):
    original = make_listed_offer(approved_supplier, catalog_staff)
    revision = services.offer_revise(offer=original, actor=supplier_owner)
    services.offer_submit(offer=revision, actor=supplier_owner)

    services.offer_reject(offer=revision, actor=catalog_staff, reason="涨价过多")

    original.refresh_from_db()
    assert original.status == OfferStatus.APPROVED
    assert _listed_ids() == {original.pk}


# What leaders see


def test_an_approved_offer_is_listed_only_once_the_contract_is_signed(
    submitted, approved_supplier, supplier_owner, catalog_staff
):
    _approve(submitted, catalog_staff)
    assert _listed_ids() == set()

    _sign(approved_supplier, supplier_owner)

    assert _listed_ids() == {submitted.pk}


def test_listed_only_within_the_offers_validity(approved_supplier, catalog_staff):
    today = timezone.localdate()
    offer = make_listed_offer(
        approved_supplier,
        catalog_staff,
        valid_from=today + timedelta(days=2),
        valid_until=today + timedelta(days=5),
    )

    assert _listed_ids(today=today) == set()
    assert _listed_ids(today=today + timedelta(days=2)) == {offer.pk}
    assert _listed_ids(today=today + timedelta(days=5)) == {offer.pk}
    # Past its end it is gone at once, before the expiry task has run.
    assert _listed_ids(today=today + timedelta(days=6)) == set()


def test_not_listed_when_suspended(approved_supplier, catalog_staff):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    services.offer_suspend(offer=offer, actor=catalog_staff, reason="投诉")
    assert _listed_ids() == set()
    services.offer_reinstate(offer=offer, actor=catalog_staff)
    assert _listed_ids() == {offer.pk}


def test_not_listed_when_withdrawn(approved_supplier, supplier_owner, catalog_staff):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    services.offer_withdraw(offer=offer, actor=supplier_owner)
    assert _listed_ids() == set()


def test_offers_expire_due_expires_past_validity_and_is_idempotent(
    approved_supplier, catalog_staff
):
    today = timezone.localdate()
    ending = make_listed_offer(approved_supplier, catalog_staff, valid_until=today)
    lasting = make_listed_offer(
        approved_supplier, catalog_staff, valid_until=today + timedelta(days=30)
    )
    later = today + timedelta(days=1)

    assert services.offers_expire_due(today=later) == 1
    changes = StateChange.objects.count()
    assert services.offers_expire_due(today=later) == 0
    assert StateChange.objects.count() == changes

    ending.refresh_from_db()
    assert ending.status == OfferStatus.EXPIRED
    change = _changes(ending).get(transition="expire")
    assert (change.actor, change.from_state) == (None, OfferStatus.APPROVED)
    assert Offer.objects.get(pk=lasting.pk).status == OfferStatus.APPROVED
    assert _listed_ids(today=later) == {lasting.pk}
    # Nothing is due today: both were still valid.
    assert services.offers_expire_due(today=today) == 0


def test_not_listed_when_the_contract_is_terminated(
    approved_supplier, supplier_owner, catalog_staff
):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    contract = approved_supplier.contracts.get()
    assert _listed_ids() == {offer.pk}

    services.contract_terminate(contract=contract, actor=catalog_staff, reason="  违约  ")

    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED
    assert contract.ended_reason == "违约"
    change = _changes(contract).get(transition="terminate")
    assert (change.actor, change.from_state, change.reason) == (
        catalog_staff,
        ContractStatus.ACTIVE,
        "违约",
    )
    assert _notices("contract_ended", contract).get().recipient == supplier_owner
    assert _listed_ids() == set()
    # The offer itself is untouched; a new signed contract would list it again.
    assert Offer.objects.get(pk=offer.pk).status == OfferStatus.APPROVED


def test_terminating_a_contract_needs_a_reason(approved_supplier, catalog_staff):
    make_listed_offer(approved_supplier, catalog_staff)
    contract = approved_supplier.contracts.get()
    changes = StateChange.objects.count()

    with pytest.raises(DomainError) as caught:
        services.contract_terminate(contract=contract, actor=catalog_staff, reason=" ")

    assert caught.value.field == "reason"
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    assert StateChange.objects.count() == changes


def test_a_pending_contract_can_be_terminated(submitted, approved_supplier, catalog_staff):
    _approve(submitted, catalog_staff)
    contract = approved_supplier.contracts.get()

    services.contract_terminate(contract=contract, actor=catalog_staff, reason="资质过期")

    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED


def test_contracts_expire_due_is_idempotent_and_unlists(approved_supplier, catalog_staff):
    offer = make_listed_offer(
        approved_supplier,
        catalog_staff,
        valid_until=timezone.localdate() + timedelta(days=800),
    )
    contract = approved_supplier.contracts.get()
    after = contract.valid_until + timedelta(days=1)
    # Past the contract's end the offer is unlisted at once, before the task runs.
    assert _listed_ids(today=contract.valid_until) == {offer.pk}
    assert _listed_ids(today=after) == set()

    assert services.contracts_expire_due(today=contract.valid_until) == 0
    assert services.contracts_expire_due(today=after) == 1
    changes = StateChange.objects.count()
    notices = Notification.objects.count()
    assert services.contracts_expire_due(today=after) == 0
    assert StateChange.objects.count() == changes
    assert Notification.objects.count() == notices

    contract.refresh_from_db()
    assert contract.status == ContractStatus.EXPIRED
    assert _changes(contract).filter(transition="expire").count() == 1
    assert _notices("contract_ended", contract).exists()
    assert _listed_ids() == set()


def test_not_listed_when_the_supplier_is_no_longer_approved(approved_supplier, catalog_staff):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    assert _listed_ids() == {offer.pk}

    SupplierOrganization.objects.filter(pk=approved_supplier.pk).update(
        status=ReviewStatus.REJECTED
    )

    assert _listed_ids() == set()


def test_only_contracted_suppliers_are_listed(approved_supplier, catalog_staff):
    listed = make_listed_offer(approved_supplier, catalog_staff)
    other = SupplierFactory(status=ReviewStatus.APPROVED)
    other_owner = other.members.get(is_owner=True).user
    unsigned = services.offer_create(product=make_product(other), **offer_terms())
    services.offer_submit(offer=unsigned, actor=other_owner)
    _approve(unsigned, catalog_staff)

    assert _listed_ids() == {listed.pk}
    assert SupplierContract.objects.filter(supplier=other).get().status == (
        ContractStatus.PENDING_SIGNATURE
    )


# Two reviewers at once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_first_approvals_at_once_issue_one_contract(monkeypatch):
    """Two reviewers approve a new supplier's first two offers at the same moment: both
    approvals stand and exactly one contract is issued (no unique-constraint crash)."""
    supplier = SupplierFactory(status=ReviewStatus.APPROVED)
    owner = supplier.members.get(is_owner=True).user
    offers = []
    for _ in range(2):
        offer = services.offer_create(product=make_product(supplier), **offer_terms())
        offers.append(services.offer_submit(offer=offer, actor=owner))
    reviewers = [StaffFactory(), StaffFactory()]

    # Hold each approval just before it issues the contract until the other one arrives,
    # or a second has passed: the other one may be waiting for a lock (today the supplier
    # row, locked together with the offer), which is what keeps the contract single.
    arrived = threading.Barrier(2)
    issue = services.contract_issue

    def contract_issue_when_both_arrived(**kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait(timeout=1)
        return issue(**kwargs)

    monkeypatch.setattr(services, "contract_issue", contract_issue_when_both_arrived)
    errors = []

    def approve(offer, reviewer):
        try:
            services.offer_approve(offer=offer, actor=reviewer)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(offer, reviewer))
        for offer, reviewer in zip(offers, reviewers, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert {Offer.objects.get(pk=o.pk).status for o in offers} == {OfferStatus.APPROVED}
    assert SupplierContract.objects.filter(supplier=supplier).count() == 1
    assert _notices("contract_issued").count() == 1

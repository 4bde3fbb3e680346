"""Every (state, transition) pair of the review machine shared by suppliers and communities."""

import itertools

import pytest
from django.db import transaction
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from accounts.models import Community, ReviewStatus, SupplierOrganization
from tests.factories import CommunityFactory, SupplierFactory

pytestmark = pytest.mark.django_db

STATES = [ReviewStatus.PENDING, ReviewStatus.APPROVED, ReviewStatus.REJECTED]
TRANSITIONS = ["approve", "reject", "resubmit"]
ALLOWED = {
    (ReviewStatus.PENDING, "approve"): ReviewStatus.APPROVED,
    (ReviewStatus.PENDING, "reject"): ReviewStatus.REJECTED,
    (ReviewStatus.REJECTED, "resubmit"): ReviewStatus.PENDING,
}
FACTORIES = {"supplier": SupplierFactory, "community": CommunityFactory}
MODELS = {"supplier": SupplierOrganization, "community": Community}


def _make(kind: str, state: str):
    """A saved application in ``state``, reached through the services (as in production)."""
    obj = FACTORIES[kind](status=state)
    assert obj.status == state
    return obj


def test_machine_has_exactly_the_documented_transitions():
    for model in MODELS.values():
        declared = {
            (t.source, t.name): t.target
            for t in model._meta.get_field("status").get_all_transitions(model)
        }
        assert declared == {(str(s), name): str(t) for (s, name), t in ALLOWED.items()}


@pytest.mark.parametrize("kind", FACTORIES)
@pytest.mark.parametrize(
    ("state", "transition"),
    [pair for pair in itertools.product(STATES, TRANSITIONS) if pair in ALLOWED],
    ids=lambda v: str(v),
)
def test_allowed_transition(kind, state, transition):
    obj = _make(kind, state)
    getattr(obj, transition)()
    assert obj.status == ALLOWED[(state, transition)]
    obj.save()
    fresh = MODELS[kind].objects.get(pk=obj.pk)
    assert fresh.status == ALLOWED[(state, transition)]


@pytest.mark.parametrize("kind", FACTORIES)
@pytest.mark.parametrize(
    ("state", "transition"),
    [pair for pair in itertools.product(STATES, TRANSITIONS) if pair not in ALLOWED],
    ids=lambda v: str(v),
)
def test_forbidden_transition(kind, state, transition):
    obj = _make(kind, state)
    with pytest.raises(TransitionNotAllowed):
        getattr(obj, transition)()
    assert obj.status == state
    assert MODELS[kind].objects.get(pk=obj.pk).status == state


def test_every_pair_is_either_allowed_or_forbidden():
    pairs = set(itertools.product(STATES, TRANSITIONS))
    assert len(pairs) == 9
    assert set(ALLOWED) <= pairs


@pytest.mark.parametrize("kind", FACTORIES)
def test_status_is_protected(kind):
    obj = _make(kind, ReviewStatus.PENDING)
    with pytest.raises(AttributeError):
        obj.status = ReviewStatus.APPROVED
    assert obj.status == ReviewStatus.PENDING


@pytest.mark.parametrize("kind", FACTORIES)
def test_refresh_from_db_works_on_protected_field(kind):
    obj = _make(kind, ReviewStatus.PENDING)
    MODELS[kind].objects.filter(pk=obj.pk).update(status=ReviewStatus.APPROVED)
    obj.refresh_from_db()
    assert obj.status == ReviewStatus.APPROVED


@pytest.mark.parametrize("kind", FACTORIES)
def test_two_stale_copies_cannot_both_transition(kind):
    obj = _make(kind, ReviewStatus.PENDING)
    model = MODELS[kind]
    first = model.objects.get(pk=obj.pk)
    second = model.objects.get(pk=obj.pk)

    first.approve()
    first.save()

    second.reject()
    # As in the services, the save runs inside its own atomic block.
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        second.save()
    assert model.objects.get(pk=obj.pk).status == ReviewStatus.APPROVED

"""Every (state, transition) pair of the Schedule machine (DESIGN.md §4): draft ->
published -> closed -> completed; draft | published -> cancelled."""

import itertools
from datetime import timedelta

import pytest
from django_fsm import TransitionNotAllowed

from scheduling.models import Schedule, ScheduleStatus
from scheduling.services import schedules as services
from tests.scheduling.test_schedule_services import make_schedule

pytestmark = pytest.mark.django_db

S = ScheduleStatus
STATES = list(S)
TRANSITIONS = ["publish", "close", "complete", "cancel"]
ALLOWED = {
    (S.DRAFT, "publish"): S.PUBLISHED,
    (S.PUBLISHED, "close"): S.CLOSED,
    (S.CLOSED, "complete"): S.COMPLETED,
    (S.DRAFT, "cancel"): S.CANCELLED,
    (S.PUBLISHED, "cancel"): S.CANCELLED,
}
ALLOWED_PAIRS = list(ALLOWED)
FORBIDDEN_PAIRS = [p for p in itertools.product(STATES, TRANSITIONS) if p not in ALLOWED]


def _after_cutoff(schedule):
    return schedule.cutoff + timedelta(minutes=1)


def schedule_in(state, community, leader, offer) -> Schedule:
    """A schedule brought to ``state`` through the services, as in production."""
    schedule = make_schedule(community, leader, offer)
    if state in (S.PUBLISHED, S.CLOSED, S.COMPLETED):
        services.schedule_publish(schedule=schedule, actor=leader)
    if state in (S.CLOSED, S.COMPLETED):
        assert services.schedule_close(schedule_id=schedule.pk, now=_after_cutoff(schedule))
    if state == S.COMPLETED:
        services.schedule_complete(schedule=schedule, actor=leader)
    if state == S.CANCELLED:
        services.schedule_cancel(schedule=schedule, actor=leader, reason="货源不足")
    schedule = Schedule.objects.get(pk=schedule.pk)
    assert schedule.status == state
    return schedule


def _run(transition, schedule, leader):
    if transition == "publish":
        services.schedule_publish(schedule=schedule, actor=leader)
    elif transition == "close":
        return services.schedule_close(schedule_id=schedule.pk, now=_after_cutoff(schedule))
    elif transition == "complete":
        services.schedule_complete(schedule=schedule, actor=leader)
    elif transition == "cancel":
        services.schedule_cancel(schedule=schedule, actor=leader, reason="天气原因")
    return True


def test_machine_has_exactly_the_documented_transitions():
    declared = {}
    for t in Schedule._meta.get_field("status").get_all_transitions(Schedule):
        declared[(t.source, t.name)] = t.target
    assert declared == {(str(s), n): str(t) for (s, n), t in ALLOWED.items()}


def test_every_pair_is_covered():
    assert len(ALLOWED_PAIRS) + len(FORBIDDEN_PAIRS) == len(STATES) * len(TRANSITIONS)


@pytest.mark.parametrize(("state", "transition"), ALLOWED_PAIRS)
def test_allowed_transition_through_the_service(state, transition, community, leader, listed_offer):
    schedule = schedule_in(state, community, leader, listed_offer)
    assert _run(transition, schedule, leader) is True
    schedule.refresh_from_db()
    assert schedule.status == ALLOWED[(state, transition)]
    from groupbuy.selectors import state_changes_for

    last = state_changes_for(schedule).order_by("-id").first()
    assert (last.from_state, last.to_state, last.transition) == (
        state,
        ALLOWED[(state, transition)],
        transition,
    )


@pytest.mark.parametrize(("state", "transition"), FORBIDDEN_PAIRS)
def test_forbidden_transition_is_refused(state, transition, community, leader, listed_offer):
    schedule = schedule_in(state, community, leader, listed_offer)
    if transition == "close":
        # The closing task skips anything not published: nothing happens, no error.
        assert _run(transition, schedule, leader) is False
    else:
        with pytest.raises(TransitionNotAllowed):
            _run(transition, schedule, leader)
    schedule.refresh_from_db()
    assert schedule.status == state


@pytest.mark.parametrize(("state", "transition"), FORBIDDEN_PAIRS)
def test_forbidden_transition_on_the_model(state, transition, community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer)
    Schedule.objects.filter(pk=schedule.pk).update(status=state)
    schedule = Schedule.objects.get(pk=schedule.pk)
    with pytest.raises(TransitionNotAllowed):
        getattr(schedule, transition)()

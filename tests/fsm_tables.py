"""Checking a django-fsm-2 machine against a table written out in a test module.

A module states ``MACHINES = {name: (model, status choices, {(state, transition): target})}``
and ``TRANSITIONS = {name: [transition, ...]}``; these helpers expand every (state,
transition) pair and check each against the model.
"""

import pytest
from django_fsm import TransitionNotAllowed


def transition_pairs(machines: dict, transitions: dict) -> tuple[list, list]:
    """(allowed, forbidden) pytest params ``(machine, state, name, target)`` of every pair."""
    pairs = [
        pytest.param(
            machine, state, name, allowed.get((state, name)), id=f"{machine}-{state}-{name}"
        )
        for machine, (_model, states, allowed) in machines.items()
        for state in states.values
        for name in transitions[machine]
    ]
    return (
        [pair for pair in pairs if pair.values[3] is not None],
        [pair for pair in pairs if pair.values[3] is None],
    )


def assert_table_matches_model(model, allowed: dict, transition_names) -> None:
    """A transition added to (or removed from) the model must show up in the table."""
    field = model._meta.get_field("status")
    declared = {
        (transition.source, transition.name): transition.target
        for transition in field.get_all_transitions(model)
    }
    assert declared == {(str(s), n): str(t) for (s, n), t in allowed.items()}
    assert {name for _source, name in declared} == set(transition_names)


def assert_transition_reaches(model, state, name, target) -> None:
    instance = model(status=state)
    getattr(instance, name)()
    assert instance.status == target


def assert_transition_refused(model, state, name) -> None:
    instance = model(status=state)
    with pytest.raises(TransitionNotAllowed):
        getattr(instance, name)()
    assert instance.status == state

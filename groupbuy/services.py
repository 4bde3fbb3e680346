from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import StateChange


def state_change_record(
    *,
    subject: models.Model,
    transition: str,
    from_state: str,
    to_state: str,
    actor=None,
    reason: str = "",
) -> StateChange:
    """Write the audit row for a transition; call it inside the service's transaction."""
    return StateChange.objects.create(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        actor=actor if actor is not None and actor.is_authenticated else None,
        reason=reason,
    )


def state_changes_record(
    *, subjects, transition: str, from_state: str, to_state: str, actor=None, reason: str = ""
) -> list[StateChange]:
    """The audit rows of one transition applied to many objects of one model, in one
    INSERT (a bulk change in the caller's transaction)."""
    subjects = list(subjects)
    if not subjects:
        return []
    content_type = ContentType.objects.get_for_model(subjects[0])
    actor = actor if actor is not None and actor.is_authenticated else None
    return StateChange.objects.bulk_create(
        StateChange(
            content_type=content_type,
            object_id=subject.pk,
            transition=transition,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            reason=reason,
        )
        for subject in subjects
    )

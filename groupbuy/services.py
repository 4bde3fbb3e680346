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

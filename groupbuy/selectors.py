from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import StateChange


def state_changes_for(subject: models.Model):
    return StateChange.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk
    ).select_related("actor")

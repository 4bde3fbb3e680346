"""Admin transition buttons that run the same services as the staff pages.

django-fsm-2's FSMAdminMixin would call the model's transition and save, skipping what
our services add (locking, the audit trail, notifications). This mixin shows only the
transitions a ModelAdmin maps to a service and runs that service instead; transitions
that need a reason ask for it on django-fsm-2's transition form page.
"""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from django_fsm.admin import FSMAdminMixin

from .exceptions import DomainError


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )


class ServiceTransitionsAdminMixin(FSMAdminMixin):
    fsm_fields = ["status"]
    # transition name -> service(obj, actor, **form data)
    transition_services: dict[str, Callable] = {}
    # transitions that ask for a reason first
    transitions_with_reason: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fsm_forms = {name: ReasonForm for name in self.transitions_with_reason}

    def is_fsm_transition_visible(self, transition) -> bool:
        return transition.name in self.transition_services

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None) -> bool:
        service = self.transition_services.get(transition_name)
        if service is None:
            self.message_user(
                request, _("This change is not made in the admin."), level=messages.ERROR
            )
            return False
        try:
            service(obj, request.user, **(kwargs or {}))
        except DomainError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return False
        except (TransitionNotAllowed, ConcurrentTransition):
            self.message_user(
                request,
                _("The state changed meanwhile; reload and try again."),
                level=messages.ERROR,
            )
            return False
        self.message_user(request, _("Done: %(name)s.") % {"name": transition_name})
        return True

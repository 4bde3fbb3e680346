"""The leader's schedule builder: list, create, edit, items, lifecycle, duplicate."""

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from accounts.selectors import communities_led_by, community_for_leader
from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import LeaderRequiredMixin
from groupbuy.selectors import state_changes_for
from notifications.selectors import broadcast_coverage

from ..forms.builder import CancelForm, ItemAddForm, ItemFieldsForm, ScheduleForm, StatusFilterForm
from ..models import Schedule, ScheduleStatus
from ..selectors import builder as selectors
from ..services import schedules as services

TRANSITION_ERRORS = (DomainError, TransitionNotAllowed, ConcurrentTransition)


def _builder_url(schedule):
    return redirect("scheduling:leader_schedule", schedule_id=schedule.pk)


def _error_text(error) -> str:
    if isinstance(error, DomainError):
        return str(error.message)
    if isinstance(error, ConcurrentTransition):
        return _("Someone else changed this schedule at the same time. Try again.")
    return _("This action is not possible in the schedule's current state.")


def _cutoff_passed(schedule: Schedule) -> bool:
    return timezone.now() >= schedule.cutoff


def _editable(schedule: Schedule) -> bool:
    """Drafts, and published schedules before their cut-off (closing task or not)."""
    if schedule.status == ScheduleStatus.DRAFT:
        return True
    return schedule.status == ScheduleStatus.PUBLISHED and not _cutoff_passed(schedule)


def _item_add_form(schedule, data=None, initial=None):
    return ItemAddForm(
        data,
        initial=initial,
        offers=selectors.offers_for_schedule(),
        proposals=selectors.proposals_for_schedule(schedule),
        prefix="item",
    )


def _render_builder(request, schedule, *, item_form=None, cancel_form=None, status=200):
    items = list(selectors.schedule_items(schedule))
    economics = selectors.schedule_economics(schedule, items)
    editable = _editable(schedule)
    if item_form is None and editable:
        offer_id = request.GET.get("offer")
        item_form = _item_add_form(
            schedule, initial={"offer": offer_id} if offer_id and offer_id.isdigit() else None
        )
    broadcast = selectors.published_broadcast(schedule)
    published_and_due = schedule.status == ScheduleStatus.PUBLISHED and _cutoff_passed(schedule)
    context = {
        "schedule": schedule,
        "community": schedule.community,
        "economics": economics,
        "editable": editable,
        "cutoff_passed": published_and_due,
        "item_form": item_form if editable else None,
        "cancel_form": cancel_form or CancelForm(),
        "can_publish": can_proceed(schedule.publish),
        "can_cancel": can_proceed(schedule.cancel) and not published_and_due,
        "can_complete": can_proceed(schedule.complete) or published_and_due,
        "can_remove_items": schedule.status == ScheduleStatus.DRAFT,
        "changes": selectors.schedule_changes(schedule)[:100],
        "history": state_changes_for(schedule),
        "status_choices": ScheduleStatus.choices,
        "change_fields": selectors.change_field_labels(),
        "broadcast": broadcast,
        "coverage": broadcast_coverage(broadcast) if broadcast else None,
    }
    return render(request, "scheduling/leader/schedule_builder.html", context, status=status)


class ScheduleListView(LeaderRequiredMixin, View):
    def get(self, request):
        form = StatusFilterForm(request.GET)
        status = form.cleaned_data["status"] if form.is_valid() else ""
        schedules = selectors.schedules_for_leader(request.user, status=status)
        return render(
            request,
            "scheduling/leader/schedule_list.html",
            {
                "form": form,
                "page_obj": paginate(request, schedules),
                "communities": communities_led_by(request.user),
                "status": status,
            },
        )


class ScheduleCreateView(LeaderRequiredMixin, View):
    template_name = "scheduling/leader/schedule_form.html"

    def get(self, request, community_id: int):
        community = community_for_leader(request.user, community_id)
        form = ScheduleForm(community=community, initial={"delivery_fee": "0.00"})
        return render(request, self.template_name, {"community": community, "form": form})

    def post(self, request, community_id: int):
        community = community_for_leader(request.user, community_id)
        form = ScheduleForm(request.POST, community=community)
        if form.is_valid():
            try:
                schedule = services.schedule_create(
                    community=community, actor=request.user, **form.service_kwargs()
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Schedule created. Now add items."))
                return _builder_url(schedule)
        return render(request, self.template_name, {"community": community, "form": form})


class ScheduleBuilderView(LeaderRequiredMixin, View):
    def get(self, request, schedule_id: int):
        schedule = selectors.schedule_for_leader(request.user, schedule_id)
        return _render_builder(request, schedule)


class ScheduleEditView(LeaderRequiredMixin, View):
    template_name = "scheduling/leader/schedule_form.html"

    def _context(self, schedule, form):
        return {"community": schedule.community, "schedule": schedule, "form": form}

    def get(self, request, schedule_id: int):
        schedule = selectors.schedule_for_leader(request.user, schedule_id)
        if not _editable(schedule):
            messages.error(request, _("This schedule can no longer change."))
            return _builder_url(schedule)
        form = ScheduleForm(
            community=schedule.community,
            schedule=schedule,
            initial=ScheduleForm.initial_for(schedule),
        )
        return render(request, self.template_name, self._context(schedule, form))

    def post(self, request, schedule_id: int):
        schedule = selectors.schedule_for_leader(request.user, schedule_id)
        form = ScheduleForm(
            request.POST,
            community=schedule.community,
            schedule=schedule,
            initial=ScheduleForm.initial_for(schedule),
        )
        if form.is_valid():
            try:
                services.schedule_update(
                    schedule=schedule, actor=request.user, **form.service_kwargs()
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Schedule saved."))
                return _builder_url(schedule)
        return render(request, self.template_name, self._context(schedule, form))


class ItemAddView(LeaderRequiredMixin, View):
    def post(self, request, schedule_id: int):
        schedule = selectors.schedule_for_leader(request.user, schedule_id)
        form = _item_add_form(schedule, request.POST)
        if form.is_valid():
            try:
                services.schedule_item_add(
                    schedule=schedule,
                    actor=request.user,
                    offer=form.cleaned_data["offer"],
                    proposal=form.cleaned_data["proposal"],
                    **form.item_fields(),
                )
            except DomainError as error:
                if error.field is None:
                    messages.error(request, error.message)
                    return _builder_url(schedule)
                add_domain_error(form, error)
            else:
                messages.success(request, _("Item added."))
                return _builder_url(schedule)
        return _render_builder(request, schedule, item_form=form)


class ItemEditView(LeaderRequiredMixin, View):
    template_name = "scheduling/leader/schedule_item_form.html"

    def _context(self, item, form):
        return {"schedule": item.schedule, "item": item, "form": form}

    def get(self, request, schedule_id: int, item_id: int):
        item = selectors.schedule_item_for_leader(request.user, schedule_id, item_id)
        form = ItemFieldsForm(
            initial={key: getattr(item, key) for key in services.ITEM_FIELDS}, prefix="item"
        )
        return render(request, self.template_name, self._context(item, form))

    def post(self, request, schedule_id: int, item_id: int):
        item = selectors.schedule_item_for_leader(request.user, schedule_id, item_id)
        form = ItemFieldsForm(request.POST, prefix="item")
        if form.is_valid():
            try:
                services.schedule_item_update(item=item, actor=request.user, **form.item_fields())
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Item saved."))
                return _builder_url(item.schedule)
        return render(request, self.template_name, self._context(item, form))


class ItemRemoveView(LeaderRequiredMixin, View):
    def post(self, request, schedule_id: int, item_id: int):
        item = selectors.schedule_item_for_leader(request.user, schedule_id, item_id)
        try:
            services.schedule_item_remove(item=item, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Item removed."))
        return _builder_url(item.schedule)


class SchedulePublishView(LeaderRequiredMixin, View):
    def post(self, request, schedule_id: int):
        schedule = selectors.schedule_for_leader(request.user, schedule_id)
        try:
            services.schedule_publish(schedule=schedule, actor=request.user)
        except TRANSITION_ERRORS as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Published. Every member of the community is told."))
        return _builder_url(schedule)


class ScheduleCancelView(LeaderRequiredMixin, View):
    def post(self, request, schedule_id: int):
        schedule = selectors.schedule_for_leader(request.user, schedule_id)
        form = CancelForm(request.POST)
        form.is_valid()
        try:
            services.schedule_cancel(
                schedule=schedule, actor=request.user, reason=form.cleaned_data.get("reason", "")
            )
        except DomainError as error:
            if error.field == "reason":
                add_domain_error(form, error)
                return _render_builder(request, schedule, cancel_form=form)
            messages.error(request, _error_text(error))
        except (TransitionNotAllowed, ConcurrentTransition) as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Schedule cancelled."))
        return _builder_url(schedule)


class ScheduleCompleteView(LeaderRequiredMixin, View):
    def post(self, request, schedule_id: int):
        schedule = selectors.schedule_for_leader(request.user, schedule_id)
        # The cut-off rule holds even if the closing task has not run yet: close it now.
        if schedule.status == ScheduleStatus.PUBLISHED and _cutoff_passed(schedule):
            services.schedule_close(schedule_id=schedule.pk)
            schedule.refresh_from_db()
        try:
            services.schedule_complete(schedule=schedule, actor=request.user)
        except TRANSITION_ERRORS as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Schedule completed."))
        return _builder_url(schedule)


def shifted_timeline(schedule: Schedule, *, now=None) -> dict:
    """The schedule's timeline moved on by whole weeks (at least one) until its cut-off is
    in the future: the starting point of a copy."""
    now = now or timezone.now()
    weeks = 1
    while schedule.cutoff + timedelta(weeks=weeks) <= now:
        weeks += 1
    shift = timedelta(weeks=weeks)
    return {
        "sale_start": schedule.sale_start + shift,
        "cutoff": schedule.cutoff + shift,
        "arrival_date": schedule.arrival_date + shift,
        "pickup_start": schedule.pickup_start + shift,
        "pickup_end": schedule.pickup_end + shift,
    }


class ScheduleDuplicateView(LeaderRequiredMixin, View):
    def post(self, request, schedule_id: int):
        schedule = selectors.schedule_for_leader(request.user, schedule_id)
        try:
            copy = services.schedule_duplicate(
                schedule=schedule, actor=request.user, **shifted_timeline(schedule)
            )
        except DomainError as error:
            messages.error(request, error.message)
            return _builder_url(schedule)
        messages.success(
            request,
            _(
                "Copied as a new draft, its dates moved on by whole weeks. Check them and the items."
            ),
        )
        return _builder_url(copy)

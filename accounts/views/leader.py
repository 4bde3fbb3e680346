from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import LeaderRequiredMixin

from .. import selectors, services
from ..forms import (
    CommunityEditForm,
    CommunityForm,
    PickupPointEditForm,
    PickupPointForm,
    PickupPointFormSet,
)
from .public import invite_url


class LeaderHomeView(LeaderRequiredMixin, View):
    def get(self, request):
        return render(
            request,
            "accounts/leader/home.html",
            {
                "communities": selectors.communities_led_by(request.user),
                "applications": selectors.leader_applications_of(request.user),
            },
        )


class LeaderApplyView(LoginRequiredMixin, View):
    """Any signed-in user may apply to lead a community."""

    template_name = "accounts/leader/apply.html"

    def get(self, request):
        return render(
            request,
            self.template_name,
            {
                "form": CommunityForm(),
                "formset": PickupPointFormSet(prefix="points"),
                "applications": selectors.leader_applications_of(request.user),
            },
        )

    def post(self, request):
        form = CommunityForm(request.POST)
        formset = PickupPointFormSet(request.POST, prefix="points")
        if form.is_valid() and formset.is_valid():
            try:
                services.community_apply(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    area=form.cleaned_data["area"],
                    contact_phone=form.cleaned_data["contact_phone"],
                    description=form.cleaned_data["description"],
                    pickup_points=[f.cleaned_data for f in formset.forms if f.has_changed()],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request, _("Application sent. Platform staff will review it shortly.")
                )
                return redirect("accounts:member_home")
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "formset": formset,
                "applications": selectors.leader_applications_of(request.user),
            },
        )


class LeaderApplicationResubmitView(LoginRequiredMixin, View):
    template_name = "accounts/leader/resubmit.html"

    def get(self, request, community_id: int):
        community = selectors.leader_application_for_applicant(request.user, community_id)
        return render(
            request,
            self.template_name,
            {"community": community, "form": CommunityForm(instance=community)},
        )

    def post(self, request, community_id: int):
        community = selectors.leader_application_for_applicant(request.user, community_id)
        form = CommunityForm(request.POST, instance=community)
        if form.is_valid():
            try:
                services.community_resubmit(
                    community=community, actor=request.user, **_community_fields(form)
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Application sent again for review."))
                return redirect("accounts:member_home")
        return render(request, self.template_name, {"community": community, "form": form})


def _community_fields(form) -> dict:
    return {key: form.cleaned_data[key] for key in ("name", "area", "contact_phone", "description")}


class CommunityDetailView(LeaderRequiredMixin, View):
    def get(self, request, community_id: int):
        community = selectors.community_for_leader(request.user, community_id)
        return render(
            request,
            "accounts/leader/community_detail.html",
            {
                "community": community,
                "invite_url": invite_url(request, community),
                "pickup_points": community.pickup_points.order_by("-is_active", "id"),
                "page_obj": paginate(request, selectors.community_members_for_leader(community)),
            },
        )


class CommunityEditView(LeaderRequiredMixin, View):
    template_name = "accounts/leader/community_edit.html"

    def get(self, request, community_id: int):
        community = selectors.community_for_leader(request.user, community_id)
        return render(
            request,
            self.template_name,
            {"community": community, "form": CommunityEditForm(instance=community)},
        )

    def post(self, request, community_id: int):
        community = selectors.community_for_leader(request.user, community_id)
        form = CommunityEditForm(request.POST, instance=community)
        if not form.is_valid():
            return render(request, self.template_name, {"community": community, "form": form})
        services.community_update(
            community=community,
            wechat_robot_webhook=form.cleaned_data["wechat_robot_webhook"],
            **_community_fields(form),
        )
        messages.success(request, _("Community saved."))
        return redirect("accounts:community_detail", community_id=community.pk)


class PickupPointCreateView(LeaderRequiredMixin, View):
    template_name = "accounts/leader/pickup_point_form.html"

    def get(self, request, community_id: int):
        community = selectors.community_for_leader(request.user, community_id)
        return render(
            request, self.template_name, {"community": community, "form": PickupPointForm()}
        )

    def post(self, request, community_id: int):
        community = selectors.community_for_leader(request.user, community_id)
        form = PickupPointForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"community": community, "form": form})
        services.pickup_point_create(community=community, **form.cleaned_data)
        messages.success(request, _("Pickup point added."))
        return redirect("accounts:community_detail", community_id=community.pk)


class PickupPointEditView(LeaderRequiredMixin, View):
    template_name = "accounts/leader/pickup_point_form.html"

    def get(self, request, community_id: int, pickup_point_id: int):
        point = selectors.pickup_point_for_leader(request.user, community_id, pickup_point_id)
        return render(
            request,
            self.template_name,
            {
                "community": point.community,
                "pickup_point": point,
                "form": PickupPointEditForm(instance=point),
            },
        )

    def post(self, request, community_id: int, pickup_point_id: int):
        point = selectors.pickup_point_for_leader(request.user, community_id, pickup_point_id)
        form = PickupPointEditForm(request.POST, instance=point)
        if form.is_valid():
            try:
                services.pickup_point_update(pickup_point=point, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Pickup point saved."))
                return redirect("accounts:community_detail", community_id=community_id)
        point.refresh_from_db()
        return render(
            request,
            self.template_name,
            {"community": point.community, "pickup_point": point, "form": form},
        )

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from groupbuy.exceptions import DomainError
from groupbuy.roles import MemberRequiredMixin

from .. import selectors, services
from ..forms import JoinCommunityForm, ProfileForm


def _member_home_context(request, join_form=None):
    user = request.user
    community = selectors.current_community_for_member(user)
    return {
        "community": community,
        "pickup_points": selectors.active_pickup_points(community) if community else [],
        "memberships": selectors.memberships_for_member(user),
        "join_form": join_form or JoinCommunityForm(),
        "supplier_membership": selectors.supplier_membership_of(user),
        "leader_applications": selectors.leader_applications_of(user),
    }


class MemberHomeView(MemberRequiredMixin, View):
    def get(self, request):
        return render(request, "accounts/member/home.html", _member_home_context(request))


class JoinByCodeView(MemberRequiredMixin, View):
    def post(self, request):
        form = JoinCommunityForm(request.POST)
        if form.is_valid():
            community = selectors.community_by_invite_code(form.cleaned_data["code"])
            if community is None:
                form.add_error("code", _("No open community has this invite code."))
            else:
                return redirect("accounts:invite", code=community.invite_code)
        return render(
            request, "accounts/member/home.html", _member_home_context(request, join_form=form)
        )


class CommunitiesView(MemberRequiredMixin, View):
    def get(self, request):
        current = selectors.current_community_for_member(request.user)
        return render(
            request,
            "accounts/member/communities.html",
            {
                "memberships": selectors.memberships_for_member(request.user),
                "current": current,
            },
        )


class SetCurrentCommunityView(MemberRequiredMixin, View):
    def post(self, request, community_id: int):
        community = selectors.community_for_member(request.user, community_id)
        try:
            services.community_set_current(user=request.user, community=community)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Now shopping in %(name)s.") % {"name": community.name})
        return redirect("accounts:member_home")


class ProfileView(MemberRequiredMixin, View):
    template_name = "accounts/member/profile.html"

    def get(self, request):
        return render(request, self.template_name, {"form": ProfileForm(instance=request.user)})

    def post(self, request):
        form = ProfileForm(request.POST, instance=request.user)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form})
        services.user_update_profile(
            user=request.user,
            display_name=form.cleaned_data["display_name"],
            preferred_language=form.cleaned_data["preferred_language"],
        )
        messages.success(request, _("Profile saved."))
        return redirect("accounts:profile")

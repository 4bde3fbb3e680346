import segno
from django.contrib import messages
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language as django_set_language

from groupbuy.exceptions import DomainError
from groupbuy.roles import ROLE_HOME_URL_NAMES, Role
from groupbuy.tasks import BEAT_HEARTBEAT_KEY

from .. import selectors, services
from ..forms import LanguageForm, RoleSwitchForm
from ..middleware import ACTIVE_ROLE_SESSION_KEY


def home(request):
    if not request.user.is_authenticated:
        return render(request, "home.html")
    return redirect(ROLE_HOME_URL_NAMES[request.active_role])


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"database": "ok", "beat_heartbeat": cache.get(BEAT_HEARTBEAT_KEY)})


@require_POST
def role_switch(request):
    form = RoleSwitchForm(request.POST)
    if not request.user.is_authenticated or not form.is_valid():
        raise Http404
    role = form.cleaned_data["role"]
    if role not in request.roles:
        raise Http404
    request.session[ACTIVE_ROLE_SESSION_KEY] = role
    return redirect(ROLE_HOME_URL_NAMES[Role(role)])


@require_POST
def set_language(request):
    """Django's set_language, plus remembering the choice on the signed-in user."""
    form = LanguageForm(request.POST)
    if form.is_valid() and request.user.is_authenticated:
        services.user_set_language(user=request.user, language=form.cleaned_data["language"])
    return django_set_language(request)


def invite_url(request, community) -> str:
    return request.build_absolute_uri(reverse("accounts:invite", args=[community.invite_code]))


def invite(request, code: str):
    community = selectors.community_by_invite_code(code)
    if community is None:
        raise Http404
    is_member = (
        request.user.is_authenticated and community.memberships.filter(user=request.user).exists()
    )
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_signup')}?next={request.path}")
        try:
            services.community_join(user=request.user, community=community)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Welcome to %(name)s!") % {"name": community.name})
            request.session[ACTIVE_ROLE_SESSION_KEY] = Role.MEMBER
        return redirect("accounts:member_home")
    return render(
        request,
        "accounts/invite.html",
        {
            "community": community,
            "pickup_points": selectors.active_pickup_points(community),
            "is_member": is_member,
        },
    )


@require_GET
def invite_qr(request, code: str):
    community = selectors.community_by_invite_code(code)
    if community is None:
        raise Http404
    qr = segno.make(invite_url(request, community), error="m")
    response = HttpResponse(content_type="image/svg+xml")
    qr.save(response, kind="svg", scale=6, border=2, title=community.name)
    return response

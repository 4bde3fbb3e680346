"""The public share page of a schedule and its poster: no log-in needed."""

from django.http import HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .. import poster
from ..selectors import member as selectors
from ..services.schedules import schedule_is_open_for_orders


def share_url(request, schedule) -> str:
    return request.build_absolute_uri(reverse("scheduling:share", args=[schedule.share_token]))


def _pickup_text(schedule, pickup_points) -> str:
    start = timezone.localtime(schedule.pickup_start)
    end = timezone.localtime(schedule.pickup_end)
    window = f"{date_format(start, 'SHORT_DATETIME_FORMAT')} – {date_format(end, 'TIME_FORMAT')}"
    names = "、".join(point.name for point in pickup_points)
    return _("Pickup: %(window)s · %(points)s") % {"window": window, "points": names}


@require_GET
def share(request, share_token: str):
    schedule = selectors.schedule_by_share_token(share_token)
    data = selectors.share_page_data(schedule)
    return render(
        request,
        "scheduling/public/share.html",
        {
            "schedule": schedule,
            "community": schedule.community,
            "is_open": schedule_is_open_for_orders(schedule),
            "now": timezone.now(),
            "share_url": share_url(request, schedule),
            "poster_url": request.build_absolute_uri(
                reverse("scheduling:share_poster", args=[schedule.share_token])
            ),
            "invite_url": reverse("accounts:invite", args=[schedule.community.invite_code]),
            **data,
        },
    )


@require_GET
def share_poster(request, share_token: str):
    schedule = selectors.schedule_by_share_token(share_token)
    data = selectors.share_page_data(schedule)
    items = data["items"]
    extra = len(items) - poster.MAX_ITEMS
    png = poster.build_poster(
        title=schedule.title,
        community_name=schedule.community.name,
        items=[
            poster.PosterItem(
                name=item.product.localized_name,
                price=f"¥{floatformat(item.member_price, 2)} / {item.product.unit}",
            )
            for item in items[: poster.MAX_ITEMS]
        ],
        more_text=_("…and %(n)s more") % {"n": extra} if extra > 0 else "",
        cutoff_text=_("Order by %(cutoff)s")
        % {"cutoff": date_format(timezone.localtime(schedule.cutoff), "SHORT_DATETIME_FORMAT")},
        pickup_text=_pickup_text(schedule, data["pickup_points"]),
        scan_text=_("Scan to see the group buy"),
        url=share_url(request, schedule),
    )
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="schedule-{schedule.pk}.png"'
    response["Cache-Control"] = "public, max-age=300"
    return response

import csv

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from accounts.selectors import community_for_leader
from groupbuy.exceptions import DomainError
from groupbuy.forms import add_domain_error
from groupbuy.pagination import paginate
from groupbuy.roles import LeaderRequiredMixin
from groupbuy.spreadsheets import spreadsheet_text

from .. import selectors, services
from ..forms import AnnouncementForm
from ..models import Channel, DeliveryStatus


class NoticeListView(LeaderRequiredMixin, View):
    template_name = "notifications/leader/notices.html"

    def _render(self, request, community, form):
        return render(
            request,
            self.template_name,
            {
                "community": community,
                "form": form,
                "page_obj": paginate(request, selectors.community_broadcasts(community)),
            },
        )

    def get(self, request, community_id: int):
        community = community_for_leader(request.user, community_id)
        return self._render(request, community, AnnouncementForm())

    def post(self, request, community_id: int):
        community = community_for_leader(request.user, community_id)
        form = AnnouncementForm(request.POST)
        if form.is_valid():
            try:
                broadcast = services.community_announce(
                    community=community, actor=request.user, **form.cleaned_data
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    _("Announcement sent to %(count)s members.")
                    % {"count": broadcast.recipient_count},
                )
                return redirect(
                    "notifications:coverage", community_id=community.pk, broadcast_id=broadcast.pk
                )
        return self._render(request, community, form)


def _show_filter(request) -> str:
    show = request.GET.get("show", "all")
    return show if show in selectors.COVERAGE_FILTERS else "all"


def _delivery_summary(notification) -> dict:
    return {d.channel: d for d in notification.deliveries.all()}


class CoverageView(LeaderRequiredMixin, View):
    def get(self, request, community_id: int, broadcast_id: int):
        broadcast = selectors.broadcast_for_leader(request.user, community_id, broadcast_id)
        context = {
            "broadcast": broadcast,
            "community": broadcast.community,
            "coverage": selectors.broadcast_coverage(broadcast),
        }
        if request.htmx and request.GET.get("part") == "counts":
            return render(request, "notifications/leader/_coverage_counts.html", context)
        show = _show_filter(request)
        page_obj = paginate(request, selectors.coverage_rows(broadcast, show=show))
        context.update(
            {
                "show": show,
                "filters": [
                    ("all", _("Everyone")),
                    ("acknowledged", _("Acknowledged")),
                    ("unacknowledged", _("Not yet acknowledged")),
                    ("failed", _("Failed")),
                ],
                "page_obj": page_obj,
                "rows": [(n, _delivery_summary(n)) for n in page_obj],
                "channels": [Channel.SMS, Channel.EMAIL],
            }
        )
        return render(request, "notifications/leader/coverage.html", context)


class RemindView(LeaderRequiredMixin, View):
    def post(self, request, community_id: int, broadcast_id: int):
        broadcast = selectors.broadcast_for_leader(request.user, community_id, broadcast_id)
        try:
            reminder = services.broadcast_remind(broadcast=broadcast, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Reminded %(count)s members who have not acknowledged yet.")
                % {"count": reminder.recipient_count},
            )
        return redirect(
            "notifications:coverage", community_id=community_id, broadcast_id=broadcast_id
        )


class CoverageExportView(LeaderRequiredMixin, View):
    def get(self, request, community_id: int, broadcast_id: int):
        broadcast = selectors.broadcast_for_leader(request.user, community_id, broadcast_id)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="notice-{broadcast.pk}-coverage.csv"'
        )
        response.write("\ufeff")  # Excel opens UTF-8 Chinese text correctly with a BOM
        writer = csv.writer(response)
        writer.writerow(
            [
                _("Member"),
                _("Phone"),
                _("Read"),
                _("Acknowledged"),
                _("SMS"),
                _("E-mail"),
                _("Error"),
            ]
        )
        labels = dict(DeliveryStatus.choices)
        for notification in selectors.coverage_rows(broadcast).iterator(chunk_size=500):
            deliveries = _delivery_summary(notification)
            acknowledgement = getattr(notification, "acknowledgement", None)
            errors = "; ".join(d.last_error for d in deliveries.values() if d.last_error)
            writer.writerow(
                [
                    spreadsheet_text(str(notification.recipient)),
                    spreadsheet_text(notification.recipient.masked_phone),
                    _format_time(notification.read_at),
                    _format_time(acknowledgement.created_at if acknowledgement else None),
                    labels.get(deliveries[Channel.SMS].status, "")
                    if Channel.SMS in deliveries
                    else "",
                    labels.get(deliveries[Channel.EMAIL].status, "")
                    if Channel.EMAIL in deliveries
                    else "",
                    spreadsheet_text(errors),
                ]
            )
        return response


def _format_time(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from groupbuy.pagination import paginate

from .. import selectors, services
from ..forms import PreferencesForm


class InboxMixin(LoginRequiredMixin):
    """Members read their inbox in the phone layout, other roles in the dashboard."""

    layout = "member"

    def template(self, name: str) -> str:
        return f"notifications/{self.layout}/{name}.html"

    def url_name(self, name: str) -> str:
        return f"notifications:{self.layout}_{name}"

    def get_context(self, **extra) -> dict:
        names = ("inbox", "notification", "acknowledge", "read_all", "preferences")
        return {"url_names": {name: self.url_name(name) for name in names}, **extra}


class InboxView(InboxMixin, View):
    def get(self, request):
        return render(
            request,
            self.template("inbox"),
            self.get_context(page_obj=paginate(request, selectors.inbox_for(request.user))),
        )


class NotificationDetailView(InboxMixin, View):
    def get(self, request, notification_id: int):
        notification = selectors.notification_for_recipient(request.user, notification_id)
        services.notification_mark_read(notification=notification)
        return render(request, self.template("detail"), self.get_context(notification=notification))


class AcknowledgeView(InboxMixin, View):
    def post(self, request, notification_id: int):
        notification = selectors.notification_for_recipient(request.user, notification_id)
        acknowledgement = services.notification_acknowledge(notification=notification)
        if request.htmx:
            return render(
                request,
                "notifications/partials/acknowledged.html",
                self.get_context(acknowledgement=acknowledgement),
            )
        messages.success(request, _("Thanks, your leader can see you got it."))
        return redirect(self.url_name("notification"), notification_id=notification.pk)


class MarkAllReadView(InboxMixin, View):
    def post(self, request):
        services.notifications_mark_all_read(user=request.user)
        return redirect(self.url_name("inbox"))


class PreferencesView(InboxMixin, View):
    def _form(self, request, data=None):
        return PreferencesForm(data, rows=selectors.preferences_for(request.user))

    def get(self, request):
        return render(
            request, self.template("preferences"), self.get_context(form=self._form(request))
        )

    def post(self, request):
        form = self._form(request, request.POST)
        if not form.is_valid():
            return render(request, self.template("preferences"), self.get_context(form=form))
        services.preferences_save(user=request.user, choices=form.choices())
        messages.success(request, _("Notification settings saved."))
        return redirect(self.url_name("preferences"))

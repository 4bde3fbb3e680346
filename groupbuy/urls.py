import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _

from accounts.views import public

from . import views

admin.site.site_header = _("Tuangou")

urlpatterns = [
    path("", public.home, name="home"),
    path("healthz", public.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("notifications.urls")),
    path("", include("catalog.urls")),
    path("", include("scheduling.urls")),
    path("", include("orders.urls")),
    path("", include("fulfillment.urls")),
    path("", include("sandboxpay.urls")),
]

if settings.SERVE_MEDIA:
    # Uploaded product pictures. A proxy or object storage in front can take this over
    # (SERVE_MEDIA=0); without one, the web tier serves them itself.
    urlpatterns += [
        re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$",
            views.media,
        )
    ]

"""URL patterns of the scheduling member pages (included by scheduling/urls.py)."""

urlpatterns = []

"""URL patterns of the scheduling negotiation pages (included by scheduling/urls.py)."""

urlpatterns = []

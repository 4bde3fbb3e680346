"""URL patterns of the scheduling builder pages (included by scheduling/urls.py)."""

urlpatterns = []

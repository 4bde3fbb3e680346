"""URL patterns of the supplier's bulk import/export pages (included by catalog/urls.py)."""

urlpatterns = []

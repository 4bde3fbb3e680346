"""URL patterns of the catalog's staff pages (included by catalog/urls.py)."""

urlpatterns = []

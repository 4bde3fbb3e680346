"""URL patterns of the catalog's supplier pages (included by catalog/urls.py)."""

urlpatterns = []

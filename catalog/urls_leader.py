"""URL patterns of the catalog's leader pages (included by catalog/urls.py)."""

urlpatterns = []

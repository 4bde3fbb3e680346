from django.conf import settings
from django.views.static import serve


def media(request, path: str):
    """Uploaded files, for deployments without a proxy in front (SERVE_MEDIA)."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)

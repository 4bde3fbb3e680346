"""Checking uploaded pictures (products, reviews, after-sales evidence)."""

from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from .exceptions import DomainError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def image_check(upload, *, field: str = "image") -> tuple[Image.Image, str]:
    """The decoded image and its file extension, or a DomainError naming ``field``."""
    if upload.size > MAX_IMAGE_BYTES:
        raise DomainError(_("An image may be at most 5 MB."), field=field)
    try:
        upload.seek(0)
        probe = Image.open(upload)
        probe.verify()  # detects truncated or corrupt files
        upload.seek(0)
        image = Image.open(upload)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DomainError(
            _("This file is not an image we can use (JPEG, PNG or WebP)."), field=field
        ) from error
    if image.format not in IMAGE_FORMATS:
        raise DomainError(
            _("This file is not an image we can use (JPEG, PNG or WebP)."), field=field
        )
    upload.seek(0)
    return image, IMAGE_FORMATS[image.format]

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog import services
from tests.catalog.conftest import make_product

pytestmark = pytest.mark.django_db


def test_uploaded_pictures_are_served(client, settings, tmp_path, approved_supplier):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (200, 30, 30)).save(buffer, format="PNG")
    product = make_product(approved_supplier)
    picture = services.product_image_add(
        product=product, upload=SimpleUploadedFile("a.png", buffer.getvalue())
    )
    response = client.get(picture.image.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert client.get(picture.thumbnail.url).status_code == 200
    assert client.get("/media/../settings.py").status_code in (400, 404)  # never the file

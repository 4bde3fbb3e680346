"""Supplier product pages: list, create and edit with errors in place, images, permissions."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from catalog import services
from catalog.models import Category, Product, ProductImage
from groupbuy import images
from tests.accounts.utils import by_testid, field_errors
from tests.catalog.conftest import make_product, offer_terms
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("catalog:supplier_products")
CREATE_URL = reverse("catalog:supplier_product_create")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def image_bytes(fmt="PNG", size=(1200, 800), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(name="photo.png", content=None, content_type="image/png"):
    return SimpleUploadedFile(name, content if content is not None else image_bytes(), content_type)


def _product_data(**overrides):
    data = {
        "name": "赣南脐橙",
        "name_en": "Gannan navel oranges",
        "spec": "5 kg x 1",
        "unit": "箱",
        "category": Category.objects.get(code="fruit").pk,
        "brand": "果园直供",
        "origin": "江西赣州",
        "barcode": "6901234567892",
        "storage": "ambient",
        "shelf_life_days": "20",
        "description": "当季鲜果",
        "description_en": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def owner_client(client, supplier_owner):
    client.force_login(supplier_owner)
    return client


def _detail_url(product):
    return reverse("catalog:supplier_product", args=[product.pk])


def _image_add_url(product):
    return reverse("catalog:supplier_product_image_add", args=[product.pk])


# List


def test_list_shows_only_own_products_with_thumbnail_and_offer_count(
    owner_client, approved_supplier
):
    mine = make_product(approved_supplier, name_en="My grapes")
    services.product_image_add(product=mine, upload=upload())
    services.offer_create(product=mine, **offer_terms())
    services.offer_create(product=mine, **offer_terms())
    other = SupplierFactory(status="approved")
    make_product(other, name_en="Their apples")

    response = owner_client.get(LIST_URL)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="product-row"') == 1
    assert "My grapes" in body  # the product's name in the user's language
    assert "Their apples" not in body
    assert by_testid(response, "offer-count").strip() == "2"
    thumb = mine.images.get().thumbnail
    assert f'src="{thumb.url}"' in body
    assert 'alt="My grapes"' in body


def test_list_search(owner_client, approved_supplier):
    make_product(approved_supplier, name="阳光玫瑰", brand="")
    make_product(approved_supplier, name="赣南脐橙", brand="果园直供")

    response = owner_client.get(LIST_URL, {"q": "果园"})

    assert response.content.decode().count('data-testid="product-row"') == 1


def test_list_is_paginated(owner_client, approved_supplier, settings):
    settings.PAGINATE_BY = 2
    for n in range(3):
        make_product(approved_supplier, name=f"产品{n}")

    first = owner_client.get(LIST_URL).content.decode()
    second = owner_client.get(LIST_URL, {"page": 2}).content.decode()

    assert first.count('data-testid="product-row"') == 2
    assert second.count('data-testid="product-row"') == 1
    assert 'data-testid="pagination"' in first


# Create and edit


def test_create_product(owner_client, approved_supplier):
    response = owner_client.post(CREATE_URL, _product_data())

    product = Product.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _detail_url(product)
    assert product.supplier == approved_supplier
    assert product.name == "赣南脐橙"
    assert product.barcode == "6901234567892"
    assert product.shelf_life_days == 20
    assert product.storage == "ambient"


def test_create_form_page(owner_client):
    response = owner_client.get(CREATE_URL)
    assert response.status_code == 200
    assert 'data-testid="product-form"' in response.content.decode()


def test_supplier_field_from_the_client_is_ignored(owner_client, approved_supplier):
    other = SupplierFactory(status="approved")
    owner_client.post(CREATE_URL, _product_data(supplier=other.pk))
    assert Product.objects.get().supplier == approved_supplier


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("barcode", "12ab"),
        ("barcode", "1234567"),  # too short
        ("shelf_life_days", "0"),
        ("shelf_life_days", "-3"),
        ("spec", ""),
        ("origin", ""),
        ("storage", "warm"),
        ("category", "999999"),
    ],
)
def test_create_with_bad_field_shows_error_in_place_and_saves_nothing(owner_client, field, value):
    response = owner_client.post(CREATE_URL, _product_data(**{field: value}))

    assert response.status_code == 200
    assert field_errors(response, field), f"no error shown next to {field}"
    assert not Product.objects.exists()


def test_error_texts_are_translated(client, supplier_owner):
    supplier_owner.preferred_language = "zh-hans"
    supplier_owner.save()
    client.force_login(supplier_owner)

    response = client.post(CREATE_URL, _product_data(name=""))

    assert field_errors(response, "name") == ["这个字段是必填项。"]


def test_barcode_error_text(owner_client):
    response = owner_client.post(CREATE_URL, _product_data(barcode="12ab"))
    assert field_errors(response, "barcode") == [
        "A barcode has 8 to 14 digits (EAN-8, EAN-13, UPC, GTIN-14)."
    ]


def test_edit_product(owner_client, product):
    url = reverse("catalog:supplier_product_edit", args=[product.pk])
    assert owner_client.get(url).status_code == 200

    response = owner_client.post(url, _product_data(name="新名字", barcode=""))

    product.refresh_from_db()
    assert response.status_code == 302
    assert product.name == "新名字"
    assert product.barcode == ""


def test_edit_with_errors_changes_nothing(owner_client, product):
    url = reverse("catalog:supplier_product_edit", args=[product.pk])

    response = owner_client.post(url, _product_data(name="", shelf_life_days="0"))

    assert response.status_code == 200
    assert field_errors(response, "name")
    assert field_errors(response, "shelf_life_days")
    product.refresh_from_db()
    assert product.name == "阳光玫瑰葡萄"
    assert product.shelf_life_days == 7


def test_detail_page(owner_client, product):
    offer = services.offer_create(product=product, **offer_terms())

    response = owner_client.get(_detail_url(product))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="image-form"' in body
    assert 'enctype="multipart/form-data"' in body
    assert reverse("catalog:supplier_offer_create", args=[product.pk]) in body
    assert reverse("catalog:supplier_offer", args=[offer.pk]) in body
    assert body.count('data-testid="offer-row"') == 1


# Images


@pytest.mark.parametrize(("fmt", "name"), [("PNG", "photo.png"), ("JPEG", "photo.jpg")])
def test_upload_image_stores_it_with_a_thumbnail(owner_client, product, fmt, name):
    response = owner_client.post(
        _image_add_url(product), {"image": upload(name, image_bytes(fmt), "image/png")}
    )

    assert response.status_code == 302
    picture = ProductImage.objects.get(product=product)
    assert default_storage.exists(picture.image.name)
    assert default_storage.exists(picture.thumbnail.name)
    with Image.open(picture.image.path) as original:
        assert original.size == (1200, 800)
    with Image.open(picture.thumbnail.path) as thumb:
        assert max(thumb.size) <= 400
        assert thumb.format == "JPEG"

    body = owner_client.get(_detail_url(product)).content.decode()
    assert f'src="{picture.thumbnail.url}"' in body
    assert body.count('data-testid="product-image"') == 1


def test_text_file_named_jpg_is_refused_next_to_the_field(owner_client, product):
    response = owner_client.post(
        _image_add_url(product),
        {"image": upload("fake.jpg", b"this is not an image at all\n" * 20, "image/jpeg")},
    )

    assert response.status_code == 200
    assert field_errors(response, "image")
    assert not ProductImage.objects.exists()


def test_missing_file_is_refused(owner_client, product):
    response = owner_client.post(_image_add_url(product), {})
    assert field_errors(response, "image")
    assert not ProductImage.objects.exists()


def test_image_over_5_mb_is_refused(owner_client, product):
    # A real PNG padded past 5 MB: cheap to build, and still an image to Pillow.
    content = image_bytes(size=(40, 40)) + b"\0" * (5 * 1024 * 1024)

    response = owner_client.post(_image_add_url(product), {"image": upload(content=content)})

    assert field_errors(response, "image") == ["An image may be at most 5 MB."]
    assert not ProductImage.objects.exists()


def test_size_limit_follows_the_service_setting(owner_client, product, monkeypatch):
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 100)

    response = owner_client.post(_image_add_url(product), {"image": upload()})

    assert field_errors(response, "image")
    assert not ProductImage.objects.exists()


def test_seventh_image_is_refused(owner_client, product):
    for _ in range(6):
        services.product_image_add(product=product, upload=upload(content=image_bytes(size=(8, 8))))

    response = owner_client.post(_image_add_url(product), {"image": upload()})

    assert response.status_code == 200
    assert field_errors(response, "image") == ["A product has at most 6 images."]
    assert product.images.count() == 6
    assert 'data-testid="images-full"' in response.content.decode()


def test_delete_image(owner_client, product, django_capture_on_commit_callbacks):
    picture = services.product_image_add(product=product, upload=upload())
    names = [picture.image.name, picture.thumbnail.name]
    url = reverse("catalog:supplier_product_image_delete", args=[product.pk, picture.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url)

    assert response.status_code == 302
    assert not ProductImage.objects.exists()
    assert not any(default_storage.exists(name) for name in names)


def test_delete_image_needs_post(owner_client, product):
    picture = services.product_image_add(product=product, upload=upload())
    url = reverse("catalog:supplier_product_image_delete", args=[product.pk, picture.pk])
    assert owner_client.get(url).status_code == 405
    assert ProductImage.objects.exists()


def test_delete_image_of_another_product_is_404(owner_client, approved_supplier):
    first, second = make_product(approved_supplier), make_product(approved_supplier)
    picture = services.product_image_add(product=second, upload=upload())
    url = reverse("catalog:supplier_product_image_delete", args=[first.pk, picture.pk])

    assert owner_client.post(url).status_code == 404
    assert ProductImage.objects.exists()


# Permissions


def _product_urls(product, picture):
    return [
        ("get", _detail_url(product)),
        ("get", reverse("catalog:supplier_product_edit", args=[product.pk])),
        ("post", reverse("catalog:supplier_product_edit", args=[product.pk])),
        ("post", _image_add_url(product)),
        (
            "post",
            reverse("catalog:supplier_product_image_delete", args=[product.pk, picture.pk]),
        ),
        ("get", reverse("catalog:supplier_offer_create", args=[product.pk])),
        ("post", reverse("catalog:supplier_offer_create", args=[product.pk])),
    ]


def test_another_supplier_gets_404_and_changes_nothing(client, product):
    picture = services.product_image_add(product=product, upload=upload())
    intruder = SupplierFactory(status="approved").members.get().user
    client.force_login(intruder)

    for method, url in _product_urls(product, picture):
        data = _product_data(name="偷改") if method == "post" else None
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        assert response.status_code == 404, (method, url)

    product.refresh_from_db()
    assert product.name == "阳光玫瑰葡萄"
    assert ProductImage.objects.filter(pk=picture.pk).exists()
    assert not product.offers.exists()


def test_user_without_supplier_role_gets_403(client, member, product):
    picture = services.product_image_add(product=product, upload=upload())
    client.force_login(member)
    urls = [("get", LIST_URL), ("get", CREATE_URL), *_product_urls(product, picture)]
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 403, (method, url)


def test_pending_supplier_gets_403(client):
    pending = SupplierFactory()  # registered, not approved yet
    client.force_login(pending.members.get().user)
    assert client.get(LIST_URL).status_code == 403


def test_anonymous_is_sent_to_log_in(client, product):
    for url in [LIST_URL, CREATE_URL, _detail_url(product)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


# Query budget


def test_list_queries_do_not_grow_with_rows(owner_client, approved_supplier, settings):
    settings.PAGINATE_BY = 50
    small = image_bytes(size=(8, 8))

    def add(n):
        for _ in range(n):
            product = make_product(approved_supplier)
            services.product_image_add(product=product, upload=upload(content=small))
            services.offer_create(product=product, **offer_terms())

    def count():
        assert owner_client.get(LIST_URL).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            body = owner_client.get(LIST_URL).content.decode()
        return len(captured), body.count('data-testid="product-row"')

    add(3)
    few, rows = count()
    assert rows == 3
    add(27)
    many, rows = count()
    assert rows == 30
    assert few == many, f"{few} queries for 3 rows but {many} for 30"

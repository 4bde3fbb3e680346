"""Leaders' catalog: only listed offers, filters, sorts, the product page, permissions,
pagination and a query count that does not grow with the rows shown."""

import html
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import ReviewStatus
from catalog import services
from catalog.forms.leader import SORT_CHOICES
from catalog.models import Category, Offer, OfferStatus, Storage
from catalog.selectors import CATALOG_SORTS
from tests.accounts.utils import by_testid, field_errors
from tests.catalog.conftest import make_listed_offer, make_product, offer_terms
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db

CATALOG_URL = reverse("catalog:leader_catalog")


# Helpers


def _offer_url(offer) -> str:
    return reverse("catalog:leader_offer", args=[offer.pk])


def _listed(supplier, staff, *, name, name_en="", brand="", category="fruit", storage="", **terms):
    product = make_product(
        supplier,
        name=name,
        name_en=name_en,
        brand=brand,
        category=Category.objects.get(code=category),
        storage=storage or Storage.CHILLED,
    )
    return make_listed_offer(supplier, staff, product=product, **terms)


def _owner(supplier):
    return supplier.members.get(is_owner=True).user


def _approved_unsigned(supplier, staff, **terms):
    """Approved by staff, but the supplier has not signed the contract it was issued."""
    offer = services.offer_create(product=make_product(supplier), **offer_terms(**terms))
    services.offer_submit(offer=offer, actor=_owner(supplier))
    return services.offer_approve(offer=offer, actor=staff)


def _submitted(supplier, **terms):
    offer = services.offer_create(product=make_product(supplier), **offer_terms(**terms))
    return services.offer_submit(offer=offer, actor=_owner(supplier))


def _ids(response) -> list[int]:
    """Offer ids of the cards shown, in order."""
    body = response.content.decode()
    return [int(pk) for pk in re.findall(r'href="/leader/catalog/(\d+)/[^"]*"', body)]


def _names(response) -> list[str]:
    body = response.content.decode()
    return [html.unescape(n) for n in re.findall(r'data-testid="offer-name">(.*?)</a>', body)]


def _png(color=(200, 30, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def leader_client(client, leader):
    client.force_login(leader)
    return client


# Only listed offers


@pytest.fixture
def offers_in_every_state(approved_supplier, catalog_staff):
    """One offer per state a leader must or must not see (keys: what it is)."""
    supplier, staff = approved_supplier, catalog_staff
    owner = _owner(supplier)
    today = timezone.localdate()
    offers = {"listed": make_listed_offer(supplier, staff)}

    offers["draft"] = services.offer_create(product=make_product(supplier), **offer_terms())
    offers["submitted"] = _submitted(supplier)
    offers["rejected"] = services.offer_reject(
        offer=_submitted(supplier), actor=staff, reason="图片不清楚"
    )
    offers["changes_requested"] = services.offer_request_changes(
        offer=_submitted(supplier), actor=staff, reason="请补充产地"
    )
    offers["suspended"] = services.offer_suspend(
        offer=make_listed_offer(supplier, staff), actor=staff, reason="质量投诉"
    )
    offers["withdrawn"] = services.offer_withdraw(
        offer=make_listed_offer(supplier, staff), actor=owner
    )

    # A revision approved: the old terms are superseded, the new ones listed.
    old = make_listed_offer(supplier, staff)
    revision = services.offer_revise(offer=old, actor=owner)
    revision = services.offer_update(offer=revision, **offer_terms(supply_price=Decimal("9.50")))
    services.offer_submit(offer=revision, actor=owner)
    offers["revision"] = services.offer_approve(offer=revision, actor=staff)
    offers["superseded"] = Offer.objects.get(pk=old.pk)

    # Validity over but the nightly expiry has not run yet, and validity over and expired.
    for key in ("validity_ended", "expired"):
        offer = make_listed_offer(supplier, staff)
        Offer.objects.filter(pk=offer.pk).update(
            valid_from=today - timedelta(days=10), valid_until=today - timedelta(days=1)
        )
        offers[key] = offer
    services.offers_expire_due(today=today)
    Offer.objects.filter(pk=offers["validity_ended"].pk).update(status=OfferStatus.APPROVED)

    offers["not_yet_valid"] = make_listed_offer(
        supplier, staff, valid_from=today + timedelta(days=2)
    )

    # Another supplier never signed its contract; a third had its contract terminated.
    unsigned = SupplierFactory(status=ReviewStatus.APPROVED)
    offers["contract_not_signed"] = _approved_unsigned(unsigned, staff)
    terminated = SupplierFactory(status=ReviewStatus.APPROVED)
    offers["contract_terminated"] = make_listed_offer(terminated, staff)
    services.contract_terminate(
        contract=terminated.contracts.get(status="active"), actor=staff, reason="违约"
    )

    for offer in offers.values():
        offer.refresh_from_db()
    return offers


LISTED_KEYS = {"listed", "revision"}


def test_states_set_up_as_named(offers_in_every_state):
    offers = offers_in_every_state
    for key in (
        "draft",
        "submitted",
        "rejected",
        "changes_requested",
        "suspended",
        "withdrawn",
        "superseded",
        "expired",
    ):
        assert offers[key].status == key
    for key in ("listed", "revision", "validity_ended", "not_yet_valid", "contract_not_signed"):
        assert offers[key].status == OfferStatus.APPROVED, key


def test_catalog_lists_only_listed_offers(leader_client, offers_in_every_state):
    response = leader_client.get(CATALOG_URL)

    assert response.status_code == 200
    expected = {offers_in_every_state[key].pk for key in LISTED_KEYS}
    assert set(_ids(response)) == expected
    assert response.content.decode().count('data-testid="offer-card"') == len(expected)


def test_listed_offer_page_opens(leader_client, offers_in_every_state):
    for key in LISTED_KEYS:
        response = leader_client.get(_offer_url(offers_in_every_state[key]))
        assert response.status_code == 200, key
        assert 'data-testid="offer-detail"' in response.content.decode()


def test_unlisted_offer_answers_404(leader_client, offers_in_every_state):
    for key, offer in offers_in_every_state.items():
        if key in LISTED_KEYS:
            continue
        assert leader_client.get(_offer_url(offer)).status_code == 404, key
    assert leader_client.get(reverse("catalog:leader_offer", args=[999999])).status_code == 404


def test_supplier_filter_offers_only_suppliers_with_listed_offers(
    leader_client, offers_in_every_state
):
    form = leader_client.get(CATALOG_URL).context["form"]
    listed_supplier = offers_in_every_state["listed"].supplier
    assert list(form.fields["supplier"].queryset) == [listed_supplier]


# Filters and sorts


@pytest.fixture
def four_offers(catalog_staff):
    """Two suppliers, four listed offers, approved in this order."""
    a = SupplierFactory(status=ReviewStatus.APPROVED)
    b = SupplierFactory(status=ReviewStatus.APPROVED)
    staff = catalog_staff
    offers = {
        "grapes": _listed(
            a,
            staff,
            name="阳光玫瑰葡萄",
            name_en="Shine Muscat grapes",
            supply_price=Decimal("30.00"),
            retail_price=Decimal("45.00"),
            delivery_weekdays="024",
        ),
        "oranges": _listed(
            a,
            staff,
            name="赣南脐橙",
            name_en="Gannan navel oranges",
            brand="果园鲜",
            storage=Storage.AMBIENT,
            supply_price=Decimal("8.00"),
            retail_price=Decimal("16.00"),
            delivery_weekdays="0123456",
        ),
        "dumplings": _listed(
            b,
            staff,
            name="三鲜水饺",
            brand="湾仔码头",
            category="frozen",
            storage=Storage.FROZEN,
            supply_price=Decimal("20.00"),
            retail_price=Decimal("22.00"),
            delivery_weekdays="135",
        ),
        "pork": _listed(
            b,
            staff,
            name="黑猪五花肉",
            name_en="Black pork belly",
            category="meat-eggs",
            supply_price=Decimal("50.00"),
            retail_price=Decimal("80.00"),
            delivery_weekdays="56",
        ),
    }
    offers["supplier_a"], offers["supplier_b"] = a, b
    return offers


def _resolve(params: dict, offers: dict) -> dict:
    """Test parameters name categories by code and suppliers by letter."""
    resolved = dict(params)
    if "category" in resolved and not resolved["category"].isdigit():
        resolved["category"] = Category.objects.get(code=resolved["category"]).pk
    if resolved.get("supplier") in ("a", "b"):
        resolved["supplier"] = offers[f"supplier_{resolved['supplier']}"].pk
    return resolved


def _keys(response, offers) -> set[str]:
    by_id = {offer.pk: key for key, offer in offers.items() if isinstance(offer, Offer)}
    return {by_id[pk] for pk in _ids(response)}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"grapes", "oranges", "dumplings", "pork"}),
        # search: Chinese name, English name (any case), brand
        ({"q": "葡萄"}, {"grapes"}),
        ({"q": "muscat"}, {"grapes"}),
        ({"q": "NAVEL"}, {"oranges"}),
        ({"q": "湾仔"}, {"dumplings"}),
        ({"q": "果园鲜"}, {"oranges"}),
        ({"q": "  五花肉  "}, {"pork"}),
        ({"q": "榴莲"}, set()),
        ({"category": "fruit"}, {"grapes", "oranges"}),
        ({"category": "frozen"}, {"dumplings"}),
        ({"category": "seafood"}, set()),
        ({"supplier": "a"}, {"grapes", "oranges"}),
        ({"supplier": "b"}, {"dumplings", "pork"}),
        ({"storage": "chilled"}, {"grapes", "pork"}),
        ({"storage": "frozen"}, {"dumplings"}),
        ({"storage": "ambient"}, {"oranges"}),
        # price range on the supply price, bounds included
        ({"price_min": "20"}, {"grapes", "dumplings", "pork"}),
        ({"price_max": "20.00"}, {"oranges", "dumplings"}),
        ({"price_min": "10", "price_max": "30"}, {"grapes", "dumplings"}),
        ({"price_min": "30", "price_max": "30"}, {"grapes"}),
        # delivery weekday: 0 is Monday
        ({"weekday": "0"}, {"grapes", "oranges"}),
        ({"weekday": "2"}, {"grapes", "oranges"}),
        ({"weekday": "6"}, {"oranges", "pork"}),
        ({"weekday": "3"}, {"oranges", "dumplings"}),
        # filters combine
        ({"category": "fruit", "storage": "chilled"}, {"grapes"}),
        ({"supplier": "b", "weekday": "5"}, {"dumplings", "pork"}),
        ({"supplier": "b", "weekday": "5", "price_max": "25"}, {"dumplings"}),
    ],
)
def test_filter_narrows(leader_client, four_offers, params, expected):
    response = leader_client.get(CATALOG_URL, _resolve(params, four_offers))

    assert response.status_code == 200
    assert response.context["form"].errors == {}
    assert _keys(response, four_offers) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["pork", "dumplings", "oranges", "grapes"]),
        ("newest", ["pork", "dumplings", "oranges", "grapes"]),
        ("price", ["oranges", "dumplings", "grapes", "pork"]),
        ("-price", ["pork", "grapes", "dumplings", "oranges"]),
        ("margin", ["pork", "grapes", "oranges", "dumplings"]),
    ],
)
def test_sort_orders(leader_client, four_offers, sort, expected):
    params = {"sort": sort} if sort else {}
    response = leader_client.get(CATALOG_URL, params)

    by_id = {four_offers[key].pk: key for key in expected}
    assert [by_id[pk] for pk in _ids(response)] == expected


def test_sort_combines_with_a_filter(leader_client, four_offers):
    response = leader_client.get(
        CATALOG_URL, _resolve({"category": "fruit", "sort": "margin"}, four_offers)
    )
    assert _names(response) == ["Shine Muscat grapes", "Gannan navel oranges"]


def test_sort_choices_match_the_selector():
    assert [value for value, _label in SORT_CHOICES] == list(CATALOG_SORTS)


def test_card_shows_the_offer(leader_client, four_offers, media):
    services.product_image_add(product=four_offers["grapes"].product, upload=_png())
    response = leader_client.get(CATALOG_URL, {"q": "葡萄"})
    body = response.content.decode()

    card = by_testid(response, "offer-card")
    assert "Shine Muscat grapes" in card
    assert "500 g x 2" in card and "盒" in card
    assert four_offers["supplier_a"].name in card
    assert "Fruit" in card  # category, in the leader's language
    assert "Chilled" in card
    assert "¥30.00" in card and "¥45.00" in card
    assert by_testid(response, "offer-margin").strip() == "¥15.00 (33%)"
    assert "12 盒, cases of 6" in card
    assert by_testid(response, "offer-delivery-days").strip() == "Mon Wed Fri"
    assert four_offers["grapes"].valid_until.isoformat() in card
    picture = four_offers["grapes"].product.images.get()
    assert f'src="{picture.thumbnail.url}" alt="Shine Muscat grapes"' in body


def test_card_in_chinese(client, leader, four_offers):
    leader.preferred_language = "zh-hans"
    leader.save()
    client.force_login(leader)
    response = client.get(CATALOG_URL, {"q": "葡萄"})

    assert _names(response) == ["阳光玫瑰葡萄"]
    assert "水果" in by_testid(response, "offer-card")


def test_margin_below_zero_is_shown_as_a_loss(leader_client, approved_supplier, catalog_staff):
    offer = make_listed_offer(
        approved_supplier,
        catalog_staff,
        supply_price=Decimal("10.00"),
        retail_price=Decimal("9.00"),
    )
    listing = leader_client.get(CATALOG_URL)
    assert by_testid(listing, "offer-margin").strip() == "-¥1.00 (-11%)"
    detail = leader_client.get(_offer_url(offer))
    assert "-¥1.00 (-11% of the retail price)" in by_testid(detail, "offer-margin")
    assert "below the supply price" in by_testid(detail, "offer-margin")


def test_every_day_delivery_is_said_so(leader_client, four_offers):
    response = leader_client.get(CATALOG_URL, {"q": "navel"})
    assert by_testid(response, "offer-delivery-days").strip() == "Every day"


# Invalid filter input: the error in place, the field ignored, the rest still applied


@pytest.mark.parametrize(
    ("params", "field", "expected"),
    [
        ({"price_min": "abc"}, "price_min", {"grapes", "oranges", "dumplings", "pork"}),
        ({"price_max": "-5"}, "price_max", {"grapes", "oranges", "dumplings", "pork"}),
        (
            {"price_min": "abc", "category": "fruit"},
            "price_min",
            {"grapes", "oranges"},
        ),
        # min > max: neither bound is applied; other filters still are
        (
            {"price_min": "40", "price_max": "10"},
            "price_max",
            {"grapes", "oranges", "dumplings", "pork"},
        ),
        (
            {"price_min": "40", "price_max": "10", "storage": "chilled"},
            "price_max",
            {"grapes", "pork"},
        ),
        ({"weekday": "9"}, "weekday", {"grapes", "oranges", "dumplings", "pork"}),
        ({"weekday": "x"}, "weekday", {"grapes", "oranges", "dumplings", "pork"}),
        ({"storage": "warm"}, "storage", {"grapes", "oranges", "dumplings", "pork"}),
        ({"category": "999999"}, "category", {"grapes", "oranges", "dumplings", "pork"}),
        ({"supplier": "abc"}, "supplier", {"grapes", "oranges", "dumplings", "pork"}),
        ({"sort": "cheapest"}, "sort", {"grapes", "oranges", "dumplings", "pork"}),
        ({"q": "x" * 101}, "q", {"grapes", "oranges", "dumplings", "pork"}),
    ],
)
def test_invalid_filter_shows_error_and_is_ignored(
    leader_client, four_offers, params, field, expected
):
    response = leader_client.get(CATALOG_URL, _resolve(params, four_offers))

    assert response.status_code == 200
    assert field_errors(response, field), response.content.decode()
    assert 'data-testid="filters-ignored"' in response.content.decode()
    assert _keys(response, four_offers) == expected


def test_price_range_error_message(leader_client, four_offers):
    response = leader_client.get(CATALOG_URL, {"price_min": "40", "price_max": "10"})
    assert field_errors(response, "price_max") == [
        "The highest price must not be below the lowest price."
    ]
    assert field_errors(response, "price_min") == []


def test_supplier_without_listed_offers_is_not_a_choice(leader_client, four_offers):
    stranger = SupplierFactory(status=ReviewStatus.APPROVED)
    response = leader_client.get(CATALOG_URL, {"supplier": stranger.pk})
    assert field_errors(response, "supplier")
    assert _keys(response, four_offers) == {"grapes", "oranges", "dumplings", "pork"}


def test_form_keeps_the_leaders_input(leader_client, four_offers):
    response = leader_client.get(CATALOG_URL, {"q": "葡萄", "price_min": "abc", "weekday": "2"})
    body = response.content.decode()
    assert 'value="葡萄"' in body
    assert 'value="abc"' in body
    assert '<option value="2" selected>' in body
    assert 'data-testid="catalog-form"' in body


# Empty states


def test_empty_catalog(leader_client):
    response = leader_client.get(CATALOG_URL)
    assert response.status_code == 200
    assert "No offers are listed yet." in by_testid(response, "catalog-empty")


def test_no_match(leader_client, four_offers):
    response = leader_client.get(CATALOG_URL, {"q": "榴莲"})
    assert "No listed offer matches these filters." in by_testid(response, "catalog-empty")
    assert 'data-testid="catalog-clear"' in response.content.decode()


# The product page


def test_product_page_shows_terms_details_and_images(
    leader_client, approved_supplier, catalog_staff, media
):
    product = make_product(
        approved_supplier,
        brand="阳光果园",
        origin="云南宾川",
        barcode="6901234567892",
        shelf_life_days=7,
        description="颗粒饱满，甜度 18 度以上。",
        description_en="Large berries, over 18 Brix.",
    )
    offer = make_listed_offer(
        approved_supplier,
        catalog_staff,
        product=product,
        min_order_qty=10,
        case_size=6,
        daily_capacity=240,
        lead_time_days=2,
        delivery_weekdays="14",
        notes="冷链配送，请提前一天下单。",
    )
    first = services.product_image_add(product=product, upload=_png((10, 120, 10)))
    second = services.product_image_add(product=product, upload=_png((10, 10, 120)))

    response = leader_client.get(_offer_url(offer))
    assert response.status_code == 200
    body = response.content.decode()

    assert "Shine Muscat grapes" in by_testid(response, "offer-detail")
    # images: full-size links around thumbnails, in order
    links = re.findall(r'<a href="([^"]+)" data-testid="offer-image"><img src="([^"]+)"', body)
    assert links == [
        (first.image.url, first.thumbnail.url),
        (second.image.url, second.thumbnail.url),
    ]
    assert 'alt="Shine Muscat grapes, photo 1 of 2"' in body
    # product details (English description for an English-speaking leader)
    details = by_testid(response, "offer-product")
    for text in ("500 g x 2", "盒", "阳光果园", "云南宾川", "6901234567892", "Chilled", "7 days"):
        assert text in details, text
    assert approved_supplier.name in details
    assert "Large berries, over 18 Brix." in body
    assert "颗粒饱满" not in body
    # terms
    assert by_testid(response, "offer-supply-price").strip() == "¥10.00 per 盒"
    assert by_testid(response, "offer-retail-price").strip() == "¥15.00 per 盒"
    assert "¥5.00 (33% of the retail price)" in by_testid(response, "offer-margin")
    assert by_testid(response, "offer-moq").strip() == "10 盒"
    assert "6 盒 per case" in by_testid(response, "offer-case-size")
    assert (
        "Orders are rounded up to whole cases of 6 盒: the smallest order is 2 cases (12 盒)."
        in by_testid(response, "offer-case-rule")
    )
    assert "240 盒" in by_testid(response, "offer-capacity")
    assert by_testid(response, "offer-lead-time").strip() == "Order 2 days before delivery"
    assert by_testid(response, "offer-delivery-days").strip() == "Tuesday, Friday"
    validity = by_testid(response, "offer-validity")
    assert offer.valid_from.isoformat() in validity and offer.valid_until.isoformat() in validity
    assert "冷链配送，请提前一天下单。" in by_testid(response, "offer-notes")


def test_product_page_without_images(leader_client, approved_supplier, catalog_staff):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    response = leader_client.get(_offer_url(offer))
    assert "The supplier has not added photos." in response.content.decode()


def test_product_page_back_link_keeps_the_filters(leader_client, four_offers):
    listing = leader_client.get(CATALOG_URL, {"q": "葡萄", "sort": "price"})
    href = re.search(r'href="(/leader/catalog/\d+/[^"]*)"', listing.content.decode()).group(1)
    detail = leader_client.get(html.unescape(href))
    back = re.search(r'href="([^"]+)" data-testid="back-to-catalog"', detail.content.decode())
    assert html.unescape(back.group(1)) == f"{CATALOG_URL}?q=%E8%91%A1%E8%90%84&sort=price"


# Permissions


@pytest.mark.parametrize("role_user", ["member", "supplier_user", "staff"])
def test_other_roles_are_refused(client, request, role_user, approved_supplier, catalog_staff):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    client.force_login(request.getfixturevalue(role_user))

    assert client.get(CATALOG_URL).status_code == 403
    assert client.get(_offer_url(offer)).status_code == 403


def test_anonymous_is_sent_to_log_in(client, approved_supplier, catalog_staff):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    for url in (CATALOG_URL, _offer_url(offer)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
        assert "next=" in response.url


def test_leader_sidebar_links_to_the_catalog(leader_client):
    body = leader_client.get(reverse("accounts:leader_home")).content.decode()
    assert f'href="{CATALOG_URL}" data-testid="nav-catalog"' in body


# Pagination


def test_pagination_keeps_the_filters(leader_client, settings, approved_supplier, catalog_staff):
    settings.PAGINATE_BY = 2
    fruit = [make_listed_offer(approved_supplier, catalog_staff) for _ in range(5)]
    _listed(approved_supplier, catalog_staff, name="三鲜水饺", category="frozen")
    fruit_id = Category.objects.get(code="fruit").pk

    first = leader_client.get(CATALOG_URL, {"category": fruit_id})
    assert len(_ids(first)) == 2
    assert "5 offers" in by_testid(first, "catalog-count")
    body = first.content.decode()
    assert 'data-testid="pagination"' in body
    next_href = html.unescape(re.search(r'<a href="([^"]+)" rel="next">', body).group(1))
    assert f"category={fruit_id}" in next_href and "page=2" in next_href

    seen = _ids(first)
    for page in (2, 3):
        response = leader_client.get(CATALOG_URL, {"category": fruit_id, "page": page})
        seen += _ids(response)
    assert len(_ids(response)) == 1
    assert seen == [offer.pk for offer in reversed(fruit)]  # newest first, each once

    # A page past the end shows the last page, not an error.
    assert _ids(leader_client.get(CATALOG_URL, {"category": fruit_id, "page": 99})) == [fruit[0].pk]


# Query budget


# Session, user, two role checks, the unread badge, category and supplier choices, the
# count, the page and its images: 10; the filtered page also validates the chosen category
# and supplier: 12.
CEILING = 12


def _query_count(client, url, params) -> tuple[int, int]:
    """Queries one GET costs (after a warm-up), and the cards it shows."""
    assert client.get(url, params).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured), response.content.decode().count('data-testid="offer-card"')


@pytest.mark.parametrize(
    "filtered",
    [False, True],
    ids=["unfiltered", "filtered"],
)
def test_query_count_is_flat_in_the_rows(leader_client, settings, catalog_staff, media, filtered):
    settings.PAGINATE_BY = 50  # every row on one page, so a per-row query would show
    suppliers = [SupplierFactory(status=ReviewStatus.APPROVED) for _ in range(3)]
    made = []

    def add(n):
        for _ in range(n):
            supplier = suppliers[len(made) % len(suppliers)]
            offer = _listed(
                supplier,
                catalog_staff,
                name=f"草莓{len(made)}",
                name_en=f"Strawberries {len(made)}",
                brand="红颜",
                retail_price=Decimal("15.00") + len(made),
                delivery_weekdays="0246",
            )
            services.product_image_add(product=offer.product, upload=_png())
            made.append(offer)

    params = {}
    if filtered:
        params = {
            "q": "草莓",
            "category": Category.objects.get(code="fruit").pk,
            "supplier": "",
            "storage": "chilled",
            "price_min": "1",
            "price_max": "100",
            "weekday": "2",
            "sort": "margin",
        }

    add(3)
    if filtered:
        params["supplier"] = suppliers[0].pk
    few, cards = _query_count(leader_client, CATALOG_URL, params)
    assert cards == (1 if filtered else 3)

    add(27)
    many, cards = _query_count(leader_client, CATALOG_URL, params)
    assert cards == (10 if filtered else 30)

    assert few == many, f"{few} queries for few rows but {many} for many"
    assert many <= CEILING


def test_product_page_query_count_is_flat_in_images(
    leader_client, approved_supplier, catalog_staff, media
):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    services.product_image_add(product=offer.product, upload=_png())
    one, _cards = _query_count(leader_client, _offer_url(offer), {})
    for _ in range(4):
        services.product_image_add(product=offer.product, upload=_png())
    five, _cards = _query_count(leader_client, _offer_url(offer), {})
    assert one == five

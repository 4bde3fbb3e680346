"""Platform staff pages: the offer review queue, decisions, suspensions and contracts."""

import dataclasses
import io
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_fsm import ConcurrentTransition
from PIL import Image

from accounts.models import ReviewStatus
from catalog import services
from catalog.models import Category, ContractStatus, Offer, OfferStatus
from catalog.selectors import listed_offers
from catalog.views import staff as views
from groupbuy.models import StateChange
from notifications.models import Notification
from tests.accounts.utils import by_testid, field_errors
from tests.catalog.conftest import make_listed_offer, make_product, offer_terms
from tests.factories import CommunityFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


def _submitted(supplier, *, name="阳光玫瑰葡萄", category="fruit", age=None, **terms):
    owner = supplier.members.get(is_owner=True).user
    product = make_product(
        supplier, name=name, name_en="", category=Category.objects.get(code=category)
    )
    offer = services.offer_create(product=product, **offer_terms(**terms))
    offer = services.offer_submit(offer=offer, actor=owner)
    if age is not None:
        Offer.objects.filter(pk=offer.pk).update(submitted_at=timezone.now() - age)
    return offer


def _changes(subject, transition):
    return StateChange.objects.filter(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        transition=transition,
    )


def _status(offer) -> str:
    return Offer.objects.get(pk=offer.pk).status


@pytest.fixture
def staff_client(client, catalog_staff):
    client.force_login(catalog_staff)
    return client


@pytest.fixture
def submitted(approved_supplier):
    return _submitted(approved_supplier)


def _messages(response) -> str:
    return by_testid(response, "messages")


# Access


class World:
    def __init__(self, supplier, staff):
        self.submitted = _submitted(supplier)
        self.listed = make_listed_offer(supplier, staff)
        self.contract = supplier.contracts.get()
        self.users = {
            "supplier": supplier.members.get(is_owner=True).user,
            "leader": CommunityFactory().leader,
            "member": UserFactory(),
        }


@pytest.fixture
def world(approved_supplier, catalog_staff):
    return World(approved_supplier, catalog_staff)


PAGES = [
    ("catalog:staff_offer_queue", lambda w: {}),
    ("catalog:staff_offers", lambda w: {}),
    ("catalog:staff_offer", lambda w: {"pk": w.submitted.pk}),
    ("catalog:staff_contracts", lambda w: {}),
    ("catalog:staff_contract", lambda w: {"pk": w.contract.pk}),
]
ACTIONS = [
    ("catalog:staff_offer_approve", lambda w: {"pk": w.submitted.pk}),
    ("catalog:staff_offer_reject", lambda w: {"pk": w.submitted.pk}),
    ("catalog:staff_offer_request_changes", lambda w: {"pk": w.submitted.pk}),
    ("catalog:staff_offer_suspend", lambda w: {"pk": w.listed.pk}),
    ("catalog:staff_offer_reinstate", lambda w: {"pk": w.listed.pk}),
    ("catalog:staff_contract_terminate", lambda w: {"pk": w.contract.pk}),
]
ALL_URLS = PAGES + ACTIONS


def _ids(urls):
    return [name.split(":")[1] for name, _ in urls]


def _untouched(world):
    assert _status(world.submitted) == OfferStatus.SUBMITTED
    assert _status(world.listed) == OfferStatus.APPROVED
    world.contract.refresh_from_db()
    assert world.contract.status == ContractStatus.ACTIVE


@pytest.mark.parametrize("who", ["supplier", "leader", "member"])
@pytest.mark.parametrize(("name", "kwargs"), ALL_URLS, ids=_ids(ALL_URLS))
def test_non_staff_get_403_on_every_staff_url(client, world, who, name, kwargs):
    client.force_login(world.users[who])
    url = reverse(name, kwargs=kwargs(world))

    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "越权"}).status_code == 403
    _untouched(world)


@pytest.mark.parametrize(("name", "kwargs"), ALL_URLS, ids=_ids(ALL_URLS))
def test_anonymous_is_sent_to_log_in(client, world, name, kwargs):
    url = reverse(name, kwargs=kwargs(world))
    for response in (client.get(url), client.post(url, {"reason": "越权"})):
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == reverse("account_login")
    _untouched(world)


@pytest.mark.parametrize(("name", "kwargs"), PAGES, ids=_ids(PAGES))
def test_staff_open_every_page(staff_client, world, name, kwargs):
    assert staff_client.get(reverse(name, kwargs=kwargs(world))).status_code == 200


@pytest.mark.parametrize(("name", "kwargs"), ACTIONS, ids=_ids(ACTIONS))
def test_actions_take_post_only(staff_client, world, name, kwargs):
    url = reverse(name, kwargs=kwargs(world))
    assert staff_client.get(url).status_code == 405
    _untouched(world)


LIST_PAGES = {"catalog:staff_offer_queue", "catalog:staff_offers", "catalog:staff_contracts"}
ACTION_NAMES = {name for name, _ in ACTIONS}
UNKNOWN = [name for name, _ in ALL_URLS if name not in LIST_PAGES]


@pytest.mark.parametrize("name", UNKNOWN, ids=[name.split(":")[1] for name in UNKNOWN])
def test_unknown_ids_answer_404(staff_client, world, name):
    url = reverse(name, kwargs={"pk": 999999})
    if name in ACTION_NAMES:
        response = staff_client.post(url, {"reason": "x"})
    else:
        response = staff_client.get(url)
    assert response.status_code == 404
    _untouched(world)


# The queue


def _row_names(response) -> list[str]:
    body = by_testid(response, "offer-queue")
    return re.findall(r"(苹果\d|葡萄\d|橙子\d)", body)


def test_queue_lists_submitted_offers_oldest_first_with_age(staff_client, approved_supplier):
    _submitted(approved_supplier, name="葡萄1", age=timedelta(hours=3))
    _submitted(approved_supplier, name="葡萄2", age=timedelta(days=2, hours=1))
    _submitted(approved_supplier, name="葡萄3", age=timedelta(minutes=5))
    draft = services.offer_create(
        product=make_product(approved_supplier, name="葡萄4", name_en=""), **offer_terms()
    )
    rejected = _submitted(approved_supplier, name="葡萄5")
    services.offer_reject(offer=rejected, actor=UserFactory(is_staff=True), reason="不行")

    response = staff_client.get(reverse("catalog:staff_offer_queue"))

    assert response.status_code == 200
    assert _row_names(response) == ["葡萄2", "葡萄1", "葡萄3"]
    assert draft.product.name not in by_testid(response, "offer-queue")
    body = response.content.decode()
    ages = re.findall(r'<td data-testid="age">.*?>(.*?)</time>', body, flags=re.S)
    assert ages[0].startswith("2\xa0days") and "hour" in ages[0]
    assert ages[1].startswith("3\xa0hours")
    assert "minute" in ages[2]


def test_queue_filters_by_supplier_and_category(staff_client, approved_supplier):
    other = SupplierFactory(status=ReviewStatus.APPROVED, name="另一家")
    _submitted(approved_supplier, name="葡萄1")
    _submitted(approved_supplier, name="苹果1", category="vegetables")
    _submitted(other, name="橙子1")
    url = reverse("catalog:staff_offer_queue")

    assert _row_names(staff_client.get(url)) == ["葡萄1", "苹果1", "橙子1"]
    by_supplier = staff_client.get(url, {"supplier": other.pk})
    assert _row_names(by_supplier) == ["橙子1"]
    # The chosen filter stays selected.
    assert re.search(
        rf'<option value="{other.pk}" selected>另一家</option>', by_supplier.content.decode()
    )
    vegetable = Category.objects.get(code="vegetables")
    assert _row_names(staff_client.get(url, {"category": vegetable.pk})) == ["苹果1"]
    both = {"supplier": approved_supplier.pk, "category": vegetable.pk}
    assert _row_names(staff_client.get(url, both)) == ["苹果1"]
    none = {"supplier": other.pk, "category": vegetable.pk}
    assert 'data-testid="empty"' in staff_client.get(url, none).content.decode()
    # A junk value drops only its own filter.
    junk = staff_client.get(url, {"supplier": "999999", "category": vegetable.pk})
    assert junk.status_code == 200
    assert _row_names(junk) == ["苹果1"]


def test_queue_paginates_and_keeps_filters(staff_client, approved_supplier, settings):
    settings.PAGINATE_BY = 2
    for n in range(3):
        _submitted(approved_supplier, name=f"葡萄{n}", age=timedelta(hours=10 - n))
    url = reverse("catalog:staff_offer_queue")

    first = staff_client.get(url, {"supplier": approved_supplier.pk})
    assert _row_names(first) == ["葡萄0", "葡萄1"]
    next_link = re.search(r'<a href="([^"]+)" rel="next">', first.content.decode()).group(1)
    assert f"supplier={approved_supplier.pk}" in next_link and "page=2" in next_link
    second = staff_client.get(url, {"supplier": approved_supplier.pk, "page": 2})
    assert _row_names(second) == ["葡萄2"]


def test_queue_query_count_is_flat(staff_client, approved_supplier, settings):
    settings.PAGINATE_BY = 50
    suppliers = [approved_supplier, SupplierFactory(status=ReviewStatus.APPROVED)]
    url = reverse("catalog:staff_offer_queue")

    def add(n):
        for i in range(n):
            offer = _submitted(suppliers[i % 2], name=f"葡萄{i}")
            assert offer.status == OfferStatus.SUBMITTED

    def count():
        assert staff_client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(url)
        assert response.status_code == 200
        return len(captured), response.content.decode().count('data-testid="offer-row"')

    add(3)
    few, rows = count()
    assert rows == 3
    add(27)
    many, rows = count()
    assert rows == 30
    assert few == many, f"{few} queries for 3 rows but {many} for 30"
    assert many <= 12


def test_staff_home_counts_offers_waiting(staff_client, approved_supplier, catalog_staff):
    _submitted(approved_supplier)
    _submitted(approved_supplier)
    make_listed_offer(approved_supplier, catalog_staff)

    response = staff_client.get(reverse("accounts:staff_home"))

    assert by_testid(response, "pending-offers").split()[0] == "2"
    body = response.content.decode()
    assert reverse("catalog:staff_offer_queue") in body
    assert reverse("catalog:staff_contracts") in body


def test_all_offers_filter_by_status(staff_client, approved_supplier, catalog_staff):
    _submitted(approved_supplier, name="葡萄1")
    listed = make_listed_offer(approved_supplier, catalog_staff)
    url = reverse("catalog:staff_offers")

    everything = staff_client.get(url)
    assert everything.content.decode().count('data-testid="offer-row"') == 2
    approved = staff_client.get(url, {"status": "approved"})
    assert approved.content.decode().count('data-testid="offer-row"') == 1
    assert reverse("catalog:staff_offer", args=[listed.pk]) in approved.content.decode()
    junk = staff_client.get(url, {"status": "bogus"})
    assert junk.content.decode().count('data-testid="offer-row"') == 2


# The detail page


def test_detail_shows_product_supplier_terms_and_decision(
    staff_client, approved_supplier, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    offer = _submitted(approved_supplier, notes="冷链配送")
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (20, 160, 30)).save(buffer, format="PNG")
    picture = services.product_image_add(
        product=offer.product, upload=SimpleUploadedFile("a.png", buffer.getvalue())
    )

    response = staff_client.get(reverse("catalog:staff_offer", args=[offer.pk]))

    body = response.content.decode()
    thumbnails = re.search(r'data-testid="thumbnails">(.*?)</ul>', body, flags=re.S).group(1)
    assert f'src="{picture.thumbnail.url}"' in thumbnails
    details = by_testid(response, "product-details")
    assert "阳光玫瑰葡萄" in details and "500 g x 2" in details and "Chilled" in details
    assert approved_supplier.name in by_testid(response, "supplier")
    diff = by_testid(response, "diff")
    assert "¥10.00" in diff and "冷链配送" in diff
    assert 'data-testid="diff-changed"' not in body
    assert 'data-testid="first-revision"' in body
    for testid in ("approve", "reject", "request-changes"):
        assert f'data-testid="{testid}"' in body
    assert 'data-testid="suspend"' not in body
    assert by_testid(response, "history").strip()


def test_diff_shows_changed_rows_of_a_revision(staff_client, approved_supplier, catalog_staff):
    owner = approved_supplier.members.get(is_owner=True).user
    original = make_listed_offer(approved_supplier, catalog_staff)
    revision = services.offer_revise(offer=original, actor=owner)
    services.offer_update(
        offer=revision,
        **offer_terms(supply_price=Decimal("9.20"), daily_capacity=500, delivery_weekdays="024"),
    )
    services.offer_submit(offer=revision, actor=owner)

    response = staff_client.get(reverse("catalog:staff_offer", args=[revision.pk]))

    body = response.content.decode()
    changed = re.findall(
        r'<tr class="diff-changed" data-testid="diff-changed" data-field="(\w+)">(.*?)</tr>',
        body,
        flags=re.S,
    )
    assert [name for name, _ in changed] == [
        "supply_price",
        "daily_capacity",
        "delivery_weekdays",
    ]
    price_row = changed[0][1]
    assert price_row.index("¥10.00") < price_row.index("¥9.20")  # previous, then this one
    assert "Mon, Wed, Fri" in changed[2][1]
    assert 'data-testid="first-revision"' not in body
    assert reverse("catalog:staff_offer", args=[original.pk]) in body


# Decisions


@pytest.mark.parametrize("action", ["reject", "request_changes"])
@pytest.mark.parametrize("reason", ["", "  "])
def test_decision_without_reason_shows_error_in_place(staff_client, submitted, action, reason):
    changes, notices = StateChange.objects.count(), Notification.objects.count()

    response = staff_client.post(
        reverse(f"catalog:staff_offer_{action}", args=[submitted.pk]), {"reason": reason}
    )

    assert response.status_code == 200
    assert field_errors(response, "reason") == ["Give a reason; the supplier sees it."]
    assert 'data-testid="decision"' in response.content.decode()
    assert _status(submitted) == OfferStatus.SUBMITTED
    assert StateChange.objects.count() == changes
    assert Notification.objects.count() == notices


@pytest.mark.parametrize(
    ("action", "target", "kind"),
    [
        ("reject", OfferStatus.REJECTED, "offer_rejected"),
        ("request_changes", OfferStatus.CHANGES_REQUESTED, "offer_changes_requested"),
    ],
)
def test_decision_with_reason(
    staff_client, submitted, catalog_staff, supplier_owner, action, target, kind
):
    response = staff_client.post(
        reverse(f"catalog:staff_offer_{action}", args=[submitted.pk]),
        {"reason": "图片模糊"},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("catalog:staff_offer_queue"), 302)]
    assert _status(submitted) == target
    change = _changes(submitted, action).get()
    assert (change.actor, change.reason) == (catalog_staff, "图片模糊")
    notice = Notification.objects.get(kind=kind)
    assert notice.recipient == supplier_owner
    detail = staff_client.get(reverse("catalog:staff_offer", args=[submitted.pk]))
    assert "图片模糊" in by_testid(detail, "history")
    assert 'data-testid="decision"' not in detail.content.decode()


def test_approve_notifies_supplier_and_issues_contract(
    staff_client, submitted, catalog_staff, supplier_owner, approved_supplier
):
    response = staff_client.post(
        reverse("catalog:staff_offer_approve", args=[submitted.pk]), follow=True
    )

    assert response.redirect_chain == [(reverse("catalog:staff_offer_queue"), 302)]
    messages = _messages(response)
    assert "Approved the offer for" in messages
    assert "supply contract was issued" in messages
    assert _status(submitted) == OfferStatus.APPROVED
    change = _changes(submitted, "approve").get()
    assert change.actor == catalog_staff
    assert Notification.objects.get(kind="offer_approved").recipient == supplier_owner
    contract = approved_supplier.contracts.get()
    assert contract.status == ContractStatus.PENDING_SIGNATURE
    assert Notification.objects.get(kind="contract_issued").recipient == supplier_owner
    # The queue no longer shows it.
    assert 'data-testid="offer-row"' not in response.content.decode()


def test_second_decision_says_already_decided(staff_client, submitted):
    staff_client.post(reverse("catalog:staff_offer_approve", args=[submitted.pk]))
    changes = StateChange.objects.count()

    for action in ("approve", "reject", "request_changes"):
        response = staff_client.post(
            reverse(f"catalog:staff_offer_{action}", args=[submitted.pk]),
            {"reason": "晚了"},
            follow=True,
        )
        assert response.redirect_chain == [
            (reverse("catalog:staff_offer", args=[submitted.pk]), 302)
        ]
        assert "already been decided" in _messages(response)
    assert _status(submitted) == OfferStatus.APPROVED
    assert StateChange.objects.count() == changes


def test_concurrent_decision_says_already_decided(
    staff_client, submitted, catalog_staff, monkeypatch
):
    """Another reviewer decides between this page's read and the service's lock."""

    def decided_meanwhile(**kwargs):
        raise ConcurrentTransition("decided meanwhile")

    approve = dataclasses.replace(views.OFFER_ACTIONS["approve"], service=decided_meanwhile)
    monkeypatch.setitem(views.OFFER_ACTIONS, "approve", approve)

    response = staff_client.post(
        reverse("catalog:staff_offer_approve", args=[submitted.pk]), follow=True
    )

    assert "already been decided" in _messages(response)
    assert _status(submitted) == OfferStatus.SUBMITTED


# Suspend and reinstate


def test_suspend_needs_a_reason(staff_client, approved_supplier, catalog_staff):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    detail = staff_client.get(reverse("catalog:staff_offer", args=[offer.pk]))
    assert 'data-testid="suspend"' in detail.content.decode()

    response = staff_client.post(
        reverse("catalog:staff_offer_suspend", args=[offer.pk]), {"reason": ""}
    )

    assert response.status_code == 200
    assert field_errors(response, "reason") == ["Give a reason; the supplier sees it."]
    assert 'data-testid="suspend-form"' in response.content.decode()
    assert _status(offer) == OfferStatus.APPROVED


def test_suspend_and_reinstate(staff_client, approved_supplier, catalog_staff, supplier_owner):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    detail_url = reverse("catalog:staff_offer", args=[offer.pk])

    response = staff_client.post(
        reverse("catalog:staff_offer_suspend", args=[offer.pk]),
        {"reason": "食品安全投诉"},
        follow=True,
    )

    assert response.redirect_chain == [(detail_url, 302)]
    assert _status(offer) == OfferStatus.SUSPENDED
    assert not listed_offers().filter(pk=offer.pk).exists()
    notice = Notification.objects.get(kind="offer_suspended")
    assert (notice.recipient, notice.context["reason"]) == (supplier_owner, "食品安全投诉")
    body = response.content.decode()
    assert 'data-testid="reinstate"' in body and 'data-testid="suspend"' not in body
    assert "食品安全投诉" in by_testid(response, "history")

    response = staff_client.post(
        reverse("catalog:staff_offer_reinstate", args=[offer.pk]), follow=True
    )

    assert response.redirect_chain == [(detail_url, 302)]
    assert _status(offer) == OfferStatus.APPROVED
    assert listed_offers().filter(pk=offer.pk).exists()
    assert Notification.objects.filter(kind="offer_reinstated").count() == 1
    # Reinstating twice is refused as already decided.
    again = staff_client.post(
        reverse("catalog:staff_offer_reinstate", args=[offer.pk]), follow=True
    )
    assert "already been decided" in _messages(again)
    assert _changes(offer, "reinstate").count() == 1


def test_only_approved_offers_can_be_suspended(staff_client, submitted):
    response = staff_client.post(
        reverse("catalog:staff_offer_suspend", args=[submitted.pk]), {"reason": "x"}, follow=True
    )
    assert "already been decided" in _messages(response)
    assert _status(submitted) == OfferStatus.SUBMITTED


# Contracts


def test_contract_list_filters_by_status(staff_client, approved_supplier, catalog_staff):
    make_listed_offer(approved_supplier, catalog_staff)
    other = SupplierFactory(status=ReviewStatus.APPROVED, name="待签公司")
    services.offer_approve(offer=_submitted(other), actor=catalog_staff)
    url = reverse("catalog:staff_contracts")

    everything = staff_client.get(url)
    assert everything.content.decode().count('data-testid="contract-row"') == 2
    pending = staff_client.get(url, {"status": "pending_signature"})
    assert pending.content.decode().count('data-testid="contract-row"') == 1
    assert "待签公司" in by_testid(pending, "contract-list")
    active = staff_client.get(url, {"status": "active"})
    assert approved_supplier.name in by_testid(active, "contract-list")
    assert "待签公司" not in by_testid(active, "contract-list")


def test_contract_detail_shows_terms_signature_and_history(
    staff_client, approved_supplier, catalog_staff
):
    make_listed_offer(approved_supplier, catalog_staff)
    contract = approved_supplier.contracts.get()

    response = staff_client.get(reverse("catalog:staff_contract", args=[contract.pk]))

    details = by_testid(response, "contract-details")
    assert contract.terms_version in details
    assert "127.0.0.1" in details
    assert "张三" in by_testid(response, "signature")
    assert (
        contract.signed_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M")
        in details
    )
    assert "Community group-buy platform supply contract" in by_testid(response, "terms-text")
    history = by_testid(response, "history")
    assert "Waiting for signature" in history and "Active" in history
    assert 'data-testid="terminate"' in response.content.decode()


def test_contract_terminate_requires_a_reason(staff_client, approved_supplier, catalog_staff):
    make_listed_offer(approved_supplier, catalog_staff)
    contract = approved_supplier.contracts.get()

    response = staff_client.post(
        reverse("catalog:staff_contract_terminate", args=[contract.pk]), {"reason": " "}
    )

    assert response.status_code == 200
    assert field_errors(response, "reason") == ["Give a reason; the supplier sees it."]
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE


def test_contract_terminate(staff_client, approved_supplier, catalog_staff, supplier_owner):
    offer = make_listed_offer(approved_supplier, catalog_staff)
    contract = approved_supplier.contracts.get()
    url = reverse("catalog:staff_contract_terminate", args=[contract.pk])

    response = staff_client.post(url, {"reason": "多次缺货"}, follow=True)

    detail_url = reverse("catalog:staff_contract", args=[contract.pk])
    assert response.redirect_chain == [(detail_url, 302)]
    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED
    assert contract.ended_reason == "多次缺货"
    assert "多次缺货" in by_testid(response, "ended-reason")
    assert 'data-testid="terminate"' not in response.content.decode()
    change = _changes(contract, "terminate").get()
    assert change.actor == catalog_staff
    assert Notification.objects.get(kind="contract_ended").recipient == supplier_owner
    assert not listed_offers().filter(pk=offer.pk).exists()

    again = staff_client.post(url, {"reason": "再次"}, follow=True)
    assert "already ended" in _messages(again)
    contract.refresh_from_db()
    assert contract.ended_reason == "多次缺货"


def test_sidebar_links(staff_client):
    response = staff_client.get(reverse("catalog:staff_offer_queue"))
    body = response.content.decode()
    assert f'href="{reverse("catalog:staff_offer_queue")}" data-testid="nav-offer-review"' in body
    assert f'href="{reverse("catalog:staff_contracts")}" data-testid="nav-contracts"' in body

"""axe-core in Chromium: no serious or critical violations on the pages each role lives on.

Data comes from the factories and users are signed in by session cookie: these tests are
about the rendered pages, the journey test covers getting there by hand.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, Page

from tests.factories import CommunityFactory, MembershipFactory, StaffFactory, SupplierFactory

AXE_PATH = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(context: BrowserContext, user, live_server) -> None:
    client = Client()
    client.force_login(user)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session_cookie.value,
                "url": live_server.url,
            }
        ]
    )


def assert_accessible(page: Page) -> None:
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE_PATH))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {node['target']}: {node['failureSummary']}" for node in v["nodes"])
        for v in blocking
    )
    assert not blocking, f"axe violations on {page.url}:\n{report}"


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/"])
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_public_pages(path, screen, new_desktop_context, new_phone_context):
    # Not "device": that name is pytest-playwright's fixture.
    context = new_desktop_context() if screen == "desktop" else new_phone_context()
    page = context.new_page()
    page.goto(path)
    assert_accessible(page)


def test_member_home_on_phone(new_phone_context, live_server):
    membership = MembershipFactory(user__preferred_language="zh-hans")
    context = new_phone_context()
    log_in(context, membership.user, live_server)
    page = context.new_page()
    page.goto("/m/")
    page.get_by_test_id("community-name").wait_for()
    assert_accessible(page)


def test_leader_community_page(new_desktop_context, live_server):
    community = CommunityFactory()
    MembershipFactory(community=community)
    context = new_desktop_context()
    log_in(context, community.leader, live_server)
    page = context.new_page()
    page.goto(f"/leader/communities/{community.pk}/")
    page.get_by_test_id("invite-qr").wait_for()
    assert_accessible(page)


@pytest.mark.parametrize("path", ["/staff/suppliers/", "/staff/leaders/"])
def test_staff_queue(path, new_desktop_context, live_server):
    SupplierFactory()
    CommunityFactory(status="pending")
    context = new_desktop_context()
    log_in(context, StaffFactory(), live_server)
    page = context.new_page()
    page.goto(path)
    assert_accessible(page)


@pytest.mark.parametrize("path", ["/m/inbox/", "inbox-detail", "/m/notification-settings/"])
def test_member_messages_on_phone(path, new_phone_context, live_server):
    membership = MembershipFactory(user__preferred_language="zh-hans")
    notification = membership.user.notifications.get()  # the welcome notice
    if path == "inbox-detail":
        path = f"/m/inbox/{notification.pk}/"
    context = new_phone_context()
    log_in(context, membership.user, live_server)
    page = context.new_page()
    page.goto(path)
    assert_accessible(page)


@pytest.mark.parametrize("page_name", ["notices", "coverage"])
def test_leader_notice_pages(page_name, new_desktop_context, live_server):
    from notifications.services import community_announce

    community = CommunityFactory()
    MembershipFactory(community=community)
    broadcast = community_announce(
        community=community, actor=community.leader, title="明天到货", body="请带袋子"
    )
    path = f"/leader/communities/{community.pk}/notices/"
    if page_name == "coverage":
        path += f"{broadcast.pk}/"
    context = new_desktop_context()
    log_in(context, community.leader, live_server)
    page = context.new_page()
    page.goto(path)
    assert_accessible(page)


@pytest.fixture
def listed_offer_with_picture(settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from catalog import services
    from tests.catalog.conftest import make_listed_offer, make_product

    settings.MEDIA_ROOT = tmp_path
    supplier = SupplierFactory(status="approved")
    product = make_product(supplier)
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (120, 190, 90)).save(buffer, format="PNG")
    services.product_image_add(
        product=product, upload=SimpleUploadedFile("p.png", buffer.getvalue())
    )
    return make_listed_offer(supplier, StaffFactory(), product=product)


@pytest.mark.parametrize("page_name", ["catalog", "offer"])
def test_leader_catalog_pages(
    page_name, listed_offer_with_picture, new_desktop_context, live_server
):
    community = CommunityFactory()
    path = "/leader/catalog/"
    if page_name == "offer":
        path += f"{listed_offer_with_picture.pk}/"
    context = new_desktop_context()
    log_in(context, community.leader, live_server)
    page = context.new_page()
    page.goto(path)
    assert_accessible(page)


@pytest.mark.parametrize(
    "page_name", ["products", "product", "offers", "offer", "offer-form", "contract", "import"]
)
def test_supplier_catalog_pages(
    page_name, listed_offer_with_picture, new_desktop_context, live_server
):
    offer = listed_offer_with_picture
    paths = {
        "products": "/supplier/products/",
        "product": f"/supplier/products/{offer.product_id}/",
        "offers": "/supplier/offers/",
        "offer": f"/supplier/offers/{offer.pk}/",
        "offer-form": f"/supplier/products/{offer.product_id}/offers/new/",
        "contract": f"/supplier/contracts/{offer.supplier.contracts.get().pk}/",
        "import": "/supplier/import/",
    }
    context = new_desktop_context()
    log_in(context, offer.supplier.members.get(is_owner=True).user, live_server)
    page = context.new_page()
    page.goto(paths[page_name])
    assert_accessible(page)


@pytest.mark.parametrize("page_name", ["queue", "offer", "contracts"])
def test_staff_catalog_pages(
    page_name, listed_offer_with_picture, new_desktop_context, live_server
):
    offer = listed_offer_with_picture
    paths = {
        "queue": "/staff/offers/queue/",
        "offer": f"/staff/offers/{offer.pk}/",
        "contracts": "/staff/contracts/",
    }
    context = new_desktop_context()
    log_in(context, StaffFactory(), live_server)
    page = context.new_page()
    page.goto(paths[page_name])
    assert_accessible(page)


@pytest.fixture
def published_schedule(listed_offer_with_picture):
    from tests.scheduling.test_member_pages import make_schedule

    community = CommunityFactory()
    return make_schedule(community, community.leader, listed_offer_with_picture)


def test_member_schedule_on_phone(published_schedule, new_phone_context, live_server):
    member = MembershipFactory(community=published_schedule.community).user
    context = new_phone_context()
    log_in(context, member, live_server)
    page = context.new_page()
    page.goto(f"/m/schedules/{published_schedule.pk}/")
    page.get_by_test_id("item-card").first.wait_for()
    assert_accessible(page)


@pytest.mark.parametrize("page_name", ["builder", "schedules", "feedback"])
def test_leader_schedule_pages(page_name, published_schedule, new_desktop_context, live_server):
    community = published_schedule.community
    paths = {
        "builder": f"/leader/schedules/{published_schedule.pk}/",
        "schedules": "/leader/schedules/",
        "feedback": f"/leader/communities/{community.pk}/feedback/",
    }
    context = new_desktop_context()
    log_in(context, community.leader, live_server)
    page = context.new_page()
    page.goto(paths[page_name])
    assert_accessible(page)


def test_public_share_page_on_phone(published_schedule, new_phone_context):
    page = new_phone_context().new_page()
    page.goto(f"/s/{published_schedule.share_token}/")
    assert_accessible(page)

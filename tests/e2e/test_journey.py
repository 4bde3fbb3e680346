"""The on-boarding journey of every role, end to end in Chromium.

Supplier, platform staff and leader work on a 1280x800 desktop in English; the member
uses a 390x844 phone in Chinese, so the member's steps rely on data-testid and roles
only, never on wording. Nothing is created behind the browser's back except the staff
account (staff are not self-service).
"""

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from accounts.models import User
from orders.tasks import expire_due_and_close_schedules
from scheduling.models import Schedule

SUPPLIER_PHONE = "+8613911110001"
LEADER_PHONE = "+8613911110002"
MEMBER_PHONE = "+8613911110003"
STAFF_EMAIL = "reviewer@example.com"
STAFF_PASSWORD = "review-pass-2024"

PRODUCT = "阳光玫瑰葡萄"
SCHEDULE = "周三鲜果团"
PRODUCT_EN = "Shine Muscat grapes"
PRODUCT_ANY_LANGUAGE = re.compile(f"{PRODUCT}|{PRODUCT_EN}")
COMPANY = "上海鲜果供应链有限公司"
LICENCE = "91310115MA1H7XYZ99"
EGGS = "土鸡蛋"
EGGS_EN = "Free-range eggs"
COMMUNITY = "花木苑"
PICKUP_POINT = "花木苑 3 号楼便利店"


def path_is(path: str) -> re.Pattern:
    """Matches a full URL whose path is exactly ``path`` (any query string)."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}(\?.*)?$")


def sign_up_with_phone(page: Page, phone: str, sms) -> None:
    """On the sign-up page: type the phone, submit, then type the code we were texted.

    Fields are found by role and forms submitted with their first button, so this works
    in any language.
    """
    sent_before = sms.count()
    phone_field = page.get_by_role("textbox")
    phone_field.press_sequentially(phone)
    page.locator("form", has=phone_field).get_by_role("button").first.click()

    code = sms.code(phone, after=sent_before)
    code_field = page.get_by_role("textbox")
    expect(code_field).to_have_attribute("autocomplete", "one-time-code")
    code_field.press_sequentially(code)
    page.locator("form", has=code_field).get_by_role("button").first.click()
    expect(page).not_to_have_url(re.compile(r"/accounts/(signup|phone/verify)/"))


@pytest.mark.django_db(transaction=True)
def test_journey(
    new_desktop_context, new_phone_context, sms, screenshot, tmp_path, settings, live_server
):
    # Absolute links (the sandbox cashier, its payment notification) point at this server.
    settings.SITE_URL = live_server.url
    # Staff accounts are provisioned, not signed up; like seed_demo, their phone is
    # verified (an unverified phone would send the e-mail + password log-in to an SMS step).
    User.objects.create_user(
        email=STAFF_EMAIL,
        password=STAFF_PASSWORD,
        is_staff=True,
        phone="+8613911110000",
        phone_verified=True,
    )

    # 1. Supplier signs up with a phone number and registers the company.
    supplier = new_desktop_context().new_page()
    supplier.goto("/")
    supplier.get_by_test_id("signup").click()
    expect(supplier).to_have_url(path_is("/accounts/signup/"))
    sign_up_with_phone(supplier, SUPPLIER_PHONE, sms)
    expect(supplier).to_have_url(path_is("/m/"))

    supplier.get_by_test_id("register-supplier").click()
    expect(supplier).to_have_url(path_is("/supplier/register/"))
    form = supplier.get_by_test_id("supplier-register-form")
    form.get_by_label("Company name").fill(COMPANY)
    form.get_by_label("Business licence number").fill(LICENCE)
    form.get_by_label("Contact person").fill("王经理")
    form.get_by_label("Contact phone").fill("+8613800138000")
    form.get_by_label("Address").fill("上海市浦东新区张杨路 500 号")
    form.get_by_test_id("submit").click()

    expect(supplier).to_have_url(path_is("/supplier/registration/"))
    status = supplier.get_by_test_id("supplier-status")
    expect(status).to_contain_text(COMPANY)
    expect(status.get_by_test_id("status")).to_have_class(re.compile(r"\bbadge-pending\b"))

    # 2. Platform staff log in with e-mail and password and approve the supplier.
    staff = new_desktop_context().new_page()
    staff.goto("/accounts/login/")
    password = staff.get_by_label("Password")
    login_form = staff.locator("form", has=password)
    login_form.get_by_role("textbox").first.fill(STAFF_EMAIL)  # e-mail or phone, then password
    password.fill(STAFF_PASSWORD)
    login_form.get_by_role("button").first.click()
    expect(staff).to_have_url(path_is("/staff/"))

    staff.get_by_test_id("pending-suppliers").click()
    expect(staff).to_have_url(path_is("/staff/suppliers/"))
    staff.get_by_test_id("supplier-row").filter(has_text=COMPANY).get_by_role("link").click()
    expect(staff.get_by_test_id("supplier-details")).to_contain_text(LICENCE)
    staff.get_by_test_id("approve").click()
    expect(staff).to_have_url(path_is("/staff/suppliers/"))
    expect(staff.get_by_test_id("message-success")).to_contain_text(COMPANY)
    expect(staff.get_by_test_id("supplier-row").filter(has_text=COMPANY)).to_have_count(0)

    supplier.reload()
    expect(supplier).to_have_url(path_is("/supplier/"))
    expect(supplier.get_by_test_id("supplier-company")).to_contain_text(LICENCE)
    expect(supplier.get_by_role("heading", level=1)).to_have_text(COMPANY)
    screenshot(supplier, "supplier-home")

    # 3. A leader signs up and applies to lead a community with its first pickup point.
    leader = new_desktop_context().new_page()
    leader.goto("/")
    leader.get_by_test_id("signup").click()
    sign_up_with_phone(leader, LEADER_PHONE, sms)
    expect(leader).to_have_url(path_is("/m/"))

    leader.get_by_test_id("apply-leader").click()
    expect(leader).to_have_url(path_is("/leader/apply/"))
    community = leader.get_by_test_id("community-fields")
    community.get_by_label("Community name").fill(COMMUNITY)
    community.get_by_label("Area").fill("浦东新区 花木街道")
    community.get_by_label("Contact phone").fill("+8613911110002")
    point = leader.get_by_test_id("pickup-point-0")
    point.get_by_label("Name").fill(PICKUP_POINT)
    point.get_by_label("Address").fill("浦东新区梅花路 88 号")
    point.get_by_label("Opening hours").fill("每天 09:00-21:00")
    point.get_by_label("Contact phone").fill("+8613911110002")
    leader.get_by_test_id("leader-apply-form").get_by_test_id("submit").click()
    expect(leader).to_have_url(path_is("/m/"))
    expect(leader.get_by_test_id("applications")).to_contain_text(COMMUNITY)

    # Staff open the application; a rejection without a reason is refused in place.
    staff.goto("/staff/")
    expect(staff.get_by_test_id("pending-leaders")).to_contain_text("1")
    screenshot(staff, "staff-home")
    staff.get_by_test_id("pending-leaders").click()
    expect(staff).to_have_url(path_is("/staff/leaders/"))
    staff.get_by_test_id("leader-row").filter(has_text=COMMUNITY).get_by_role("link").click()
    expect(staff.get_by_test_id("community-details")).to_contain_text("浦东新区 花木街道")
    application_path = re.search(r"/staff/leaders/\d+/", staff.url).group(0)
    staff.get_by_test_id("reject").click()
    expect(staff.get_by_test_id("error-reason")).to_be_visible()  # shown in place
    expect(staff).to_have_url(re.compile(re.escape(application_path)))
    expect(staff.get_by_test_id("decision")).to_be_visible()  # still pending, still decidable
    staff.get_by_test_id("approve").click()
    expect(staff).to_have_url(path_is("/staff/leaders/"))
    expect(staff.get_by_test_id("message-success")).to_contain_text(COMMUNITY)

    # The approved leader opens the community and finds the invitation.
    leader.goto("/")
    expect(leader).to_have_url(path_is("/leader/"))
    leader.get_by_test_id("led-communities").get_by_role("link", name=COMMUNITY).click()
    expect(leader).to_have_url(re.compile(r"/leader/communities/\d+/$"))
    community_id = int(re.search(r"/leader/communities/(\d+)/", leader.url).group(1))
    invite_link = leader.get_by_test_id("invite-link").input_value()
    invite_code = leader.get_by_test_id("invite-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", invite_code), invite_code
    assert invite_link.endswith(f"/join/{invite_code}/"), invite_link
    qr = leader.get_by_test_id("invite-qr")
    expect(qr).to_be_visible()
    # Waits until the SVG has loaded (a plain check right after "visible" can be too early).
    leader.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())

    # 4. A member opens the invite link on a phone, signs up and joins.
    member = new_phone_context().new_page()
    member.goto(invite_link)
    expect(member.get_by_test_id("invite-community-name")).to_have_text(COMMUNITY)
    expect(member.get_by_test_id("invite")).to_contain_text(PICKUP_POINT)
    member.get_by_test_id("invite-signup").click()
    expect(member).to_have_url(re.compile(r"/accounts/signup/\?next="))
    sign_up_with_phone(member, MEMBER_PHONE, sms)

    expect(member).to_have_url(path_is(f"/join/{invite_code}/"))
    member.get_by_test_id("join").tap()
    expect(member).to_have_url(path_is("/m/"))
    expect(member.get_by_test_id("community-name")).to_have_text(COMMUNITY)
    expect(member.get_by_test_id("pickup-points")).to_contain_text(PICKUP_POINT)
    expect(member.get_by_test_id("bottom-nav")).to_be_visible()
    expect(member.get_by_test_id("message-success")).to_be_visible()

    # The member finds the welcome notice in the inbox and acknowledges it with one tap.
    nav_inbox = member.get_by_test_id("nav-inbox")
    expect(nav_inbox.get_by_test_id("unread-badge")).to_have_text(re.compile(r"1"))
    nav_inbox.tap()
    expect(member).to_have_url(path_is("/m/inbox/"))
    member.get_by_test_id("notification-community_welcome").get_by_role("link").tap()
    expect(member.get_by_test_id("notification-title")).to_contain_text(COMMUNITY)
    member.get_by_test_id("acknowledge").tap()
    expect(member.get_by_test_id("acknowledged")).to_be_visible()  # swapped in by htmx
    expect(member.get_by_test_id("acknowledge")).to_have_count(0)
    expect(member.get_by_test_id("unread-badge")).to_have_count(0)

    # The leader sees the welcome counted as acknowledged, sends an announcement and
    # follows who acknowledged it.
    leader.get_by_test_id("notices-link").click()
    expect(leader).to_have_url(re.compile(r"/leader/communities/\d+/notices/$"))
    expect(leader.get_by_test_id("notice-acknowledged").first).to_have_text("1")
    announcement = leader.get_by_test_id("announcement-form")
    announcement.get_by_label("Title").fill("明天下午到货")
    announcement.get_by_label("Message").fill("请带购物袋到自提点。")
    leader.get_by_test_id("send-announcement").click()
    expect(leader).to_have_url(re.compile(r"/notices/\d+/$"))
    expect(leader.get_by_test_id("count-total")).to_have_text("2")  # the member and the leader
    expect(leader.get_by_test_id("count-acknowledged")).to_have_text("0")

    member.goto("/m/inbox/")
    member.get_by_test_id("notification-community_announcement").get_by_role("link").tap()
    expect(member.get_by_test_id("notification-body")).to_contain_text("请带购物袋")
    member.get_by_test_id("acknowledge").tap()
    expect(member.get_by_test_id("acknowledged")).to_be_visible()

    leader.reload()
    expect(leader.get_by_test_id("count-acknowledged")).to_have_text("1")
    leader.get_by_test_id("show-unacknowledged").click()
    expect(leader.get_by_test_id("coverage-row")).to_have_count(1)  # only the leader's own copy

    # 6. The supplier posts a product with a picture and an offer, and submits it.
    settings.MEDIA_ROOT = tmp_path / "media"
    picture = tmp_path / "grapes.png"
    buffer = io.BytesIO()
    Image.new("RGB", (600, 600), (120, 190, 90)).save(buffer, format="PNG")
    picture.write_bytes(buffer.getvalue())

    supplier.goto("/supplier/")
    supplier.get_by_test_id("nav-products").click()
    supplier.get_by_test_id("new-product").click()
    product_form = supplier.get_by_test_id("product-form")
    product_form.get_by_label(re.compile(r"^Name")).fill(PRODUCT)
    product_form.get_by_label(re.compile(r"^English name")).fill(PRODUCT_EN)
    product_form.get_by_label("Specification").fill("500 g x 2")
    product_form.get_by_label("Unit").fill("盒")
    product_form.get_by_label("Category").select_option(label="Fruit")
    product_form.get_by_label("Origin").fill("云南")
    product_form.get_by_label("Storage").select_option("chilled")
    product_form.get_by_label("Shelf life (days)").fill("7")
    supplier.get_by_test_id("save-product").click()
    expect(supplier.get_by_test_id("product-details")).to_contain_text(PRODUCT_ANY_LANGUAGE)
    supplier.get_by_test_id("image-form").locator("input[type=file]").set_input_files(picture)
    supplier.get_by_test_id("upload-image").click()
    expect(supplier.get_by_test_id("product-image")).to_have_count(1)

    supplier.get_by_test_id("new-offer").click()
    offer_form = supplier.get_by_test_id("offer-form")
    today = timezone.localdate()
    offer_form.get_by_label("Supply price").fill("32.00")
    offer_form.get_by_label("Suggested retail price").fill("45.90")
    offer_form.get_by_label("Minimum order quantity").fill("12")
    offer_form.get_by_label("Case size").fill("6")
    offer_form.get_by_label("Capacity per delivery day").fill("400")
    offer_form.get_by_label("Lead time (days)").fill("1")
    for day in ("Monday", "Wednesday", "Friday"):
        offer_form.get_by_label(day).check()
    offer_form.get_by_label("Valid from").fill(today.isoformat())
    offer_form.get_by_label("Valid until").fill((today + timedelta(days=30)).isoformat())
    supplier.get_by_test_id("save-offer").click()
    supplier.get_by_test_id("submit-offer").click()
    expect(supplier.get_by_test_id("offer-status").get_by_test_id("status")).to_have_class(
        re.compile(r"\bbadge-submitted\b")
    )

    # A second product (no picture) with its offer, so members can order two items.
    supplier.get_by_test_id("nav-products").click()
    supplier.get_by_test_id("new-product").click()
    product_form = supplier.get_by_test_id("product-form")
    product_form.get_by_label(re.compile(r"^Name")).fill(EGGS)
    product_form.get_by_label(re.compile(r"^English name")).fill(EGGS_EN)
    product_form.get_by_label("Specification").fill("30 枚")
    product_form.get_by_label("Unit").fill("盒")
    product_form.get_by_label("Category").select_option(index=1)
    product_form.get_by_label("Origin").fill("安徽")
    product_form.get_by_label("Storage").select_option("chilled")
    product_form.get_by_label("Shelf life (days)").fill("20")
    supplier.get_by_test_id("save-product").click()
    expect(supplier.get_by_test_id("product-details")).to_contain_text(EGGS_EN)
    supplier.get_by_test_id("new-offer").click()
    offer_form = supplier.get_by_test_id("offer-form")
    offer_form.get_by_label("Supply price").fill("20.00")
    offer_form.get_by_label("Suggested retail price").fill("29.90")
    offer_form.get_by_label("Minimum order quantity").fill("1")
    offer_form.get_by_label("Case size").fill("1")
    offer_form.get_by_label("Capacity per delivery day").fill("200")
    offer_form.get_by_label("Lead time (days)").fill("1")
    for day in ("Monday", "Wednesday", "Friday"):
        offer_form.get_by_label(day).check()
    offer_form.get_by_label("Valid from").fill(today.isoformat())
    offer_form.get_by_label("Valid until").fill((today + timedelta(days=30)).isoformat())
    supplier.get_by_test_id("save-offer").click()
    supplier.get_by_test_id("submit-offer").click()
    expect(supplier.get_by_test_id("offer-status").get_by_test_id("status")).to_have_class(
        re.compile(r"\bbadge-submitted\b")
    )

    # Staff approve both from the review queue; the supplier signs the contract it triggers.
    staff.goto("/staff/")
    for name in (PRODUCT_ANY_LANGUAGE, EGGS_EN):
        staff.get_by_test_id("nav-offer-review").click()
        staff.get_by_test_id("offer-row").filter(has_text=name).get_by_role("link").first.click()
        staff.get_by_test_id("approve").click()
        expect(staff.get_by_test_id("message-success")).to_be_visible()

    supplier.goto("/supplier/")
    supplier.get_by_test_id("nav-contracts").click()
    supplier.get_by_test_id("contract-row").first.get_by_role("link").first.click()
    sign_form = supplier.get_by_test_id("sign-form")
    sign_form.get_by_label("Your full name").fill("王经理")
    sign_form.get_by_role("checkbox").check()
    supplier.get_by_test_id("sign-contract").click()
    expect(supplier.get_by_test_id("signed-name")).to_contain_text("王经理")

    # The leader finds the offer in the catalog with a filter and opens it.
    leader.goto("/leader/")
    leader.get_by_test_id("nav-catalog").click()
    catalog = leader.get_by_test_id("catalog-form")
    catalog.get_by_label("Search").fill("葡萄")
    catalog.get_by_label("Category").select_option(label="Fruit")
    catalog.get_by_label("Delivers on").select_option(label="Wednesday")
    leader.get_by_test_id("catalog-apply").click()
    card = leader.get_by_test_id("offer-card").filter(has_text=PRODUCT_ANY_LANGUAGE)
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("offer-margin")).to_contain_text("13.90")
    card.get_by_role("link").first.click()
    expect(leader.get_by_test_id("offer-detail")).to_contain_text(COMPANY)
    screenshot(leader, "leader-catalog-offer")

    # 7. The leader proposes quantity and price, the supplier counters, the leader accepts.
    delivery_day = today + timedelta(days=2)
    while delivery_day.weekday() not in (0, 2, 4):  # the offer delivers Mon, Wed, Fri
        delivery_day += timedelta(days=1)
    leader.get_by_test_id("propose").click()
    proposal_form = leader.get_by_test_id("proposal-form")
    proposal_form.get_by_label("Delivery date").fill(delivery_day.isoformat())
    proposal_form.get_by_label("Quantity").fill("60")
    proposal_form.get_by_label("Unit price (CNY)").fill("31.00")
    leader.get_by_test_id("send-proposal").click()
    expect(leader.get_by_test_id("thread")).to_be_visible()
    thread_path = re.search(r"/leader/proposals/\d+/", leader.url).group(0)

    supplier.goto("/supplier/")
    supplier.get_by_test_id("nav-supplier-proposals").click()
    supplier.get_by_test_id("proposal-row").first.get_by_role("link").first.click()
    counter_form = supplier.get_by_test_id("counter-form")
    counter_form.get_by_label("Quantity").fill("48")
    counter_form.get_by_label("Unit price (CNY)").fill("31.50")
    supplier.get_by_test_id("counter-proposal").click()
    expect(supplier.get_by_test_id("thread-step")).to_have_count(2)

    leader.goto(thread_path)
    leader.get_by_test_id("accept-proposal").click()
    expect(leader.get_by_test_id("thread-status")).to_contain_text(re.compile("accepted", re.I))

    # The leader builds a schedule with the agreed terms and publishes it.
    leader.goto("/leader/")
    leader.get_by_test_id("nav-schedules").click()
    leader.get_by_test_id(re.compile(r"^new-schedule-\d+$")).first.click()
    schedule_form = leader.get_by_test_id("schedule-form")
    local_now = timezone.localtime()
    cutoff_day = delivery_day - timedelta(days=1)
    schedule_form.get_by_label("Title").fill(SCHEDULE)
    schedule_form.get_by_label("Sale starts").fill(local_now.strftime("%Y-%m-%dT%H:%M"))
    schedule_form.get_by_label("Cut-off").fill(f"{cutoff_day.isoformat()}T23:00")
    schedule_form.get_by_label("Arrival date").fill(delivery_day.isoformat())
    schedule_form.get_by_label("Pickup starts").fill(f"{delivery_day.isoformat()}T15:00")
    schedule_form.get_by_label("Pickup ends").fill(f"{delivery_day.isoformat()}T20:00")
    schedule_form.get_by_label(PICKUP_POINT).check()
    leader.get_by_test_id("save-schedule").click()
    item_form = leader.get_by_test_id("item-form")
    item_form.get_by_label("Supply terms").select_option(index=1)  # the accepted proposal
    item_form.get_by_label("Member price (CNY)").fill("45.90")
    item_form.get_by_label("Quantity cap").fill("48")
    item_form.get_by_label("Limit per member").fill("4")
    leader.get_by_test_id("add-item").click()
    expect(leader.get_by_test_id("item-row")).to_have_count(1)
    expect(leader.get_by_test_id("item-supply-price")).to_contain_text("31.50")
    # The eggs go in on the offer's list terms.
    item_form = leader.get_by_test_id("item-form")
    offer_select = item_form.get_by_label("Offer")
    eggs_value = offer_select.locator("option", has_text=EGGS).get_attribute("value")
    offer_select.select_option(eggs_value)
    item_form.get_by_label("Member price (CNY)").fill("29.90")
    item_form.get_by_label("Quantity cap").fill("30")
    item_form.get_by_label("Limit per member").fill("3")
    leader.get_by_test_id("add-item").click()
    expect(leader.get_by_test_id("item-row")).to_have_count(2)
    leader.get_by_test_id("publish-schedule").click()
    expect(leader.get_by_test_id("schedule-status")).to_contain_text(re.compile("published", re.I))
    builder_path = re.search(r"/leader/schedules/\d+/", leader.url).group(0)
    schedule_id = int(re.search(r"/leader/schedules/(\d+)/", leader.url).group(1))

    # 8. The member gets the notice on the phone, acknowledges it and likes the item.
    member.goto("/m/inbox/")
    member.get_by_test_id("notification-schedule_published").get_by_role("link").tap()
    expect(member.get_by_test_id("notification-title")).to_contain_text(SCHEDULE)
    member.get_by_test_id("acknowledge").tap()
    expect(member.get_by_test_id("acknowledged")).to_be_visible()
    member.get_by_test_id("nav-schedules").tap()
    member.get_by_test_id("schedule-card").filter(has_text=SCHEDULE).get_by_role("link").first.tap()
    item = member.get_by_test_id("item-card").first
    expect(item.get_by_test_id("item-remaining")).to_contain_text("48")
    expect(member.get_by_test_id("countdown")).to_be_visible()
    item.get_by_test_id("like-item").tap()
    expect(item.get_by_test_id("like-count")).to_contain_text("1")
    screenshot(member, "member-schedule")

    # The leader sees the coverage of the notice and the like.
    leader.goto(builder_path)
    expect(leader.get_by_test_id("coverage-acknowledged")).to_contain_text("1")
    leader.goto(f"/leader/communities/{community_id}/feedback/")
    expect(leader.get_by_test_id("feedback-like-count").first).to_contain_text("1")

    # 9. The member orders two grapes and one box of eggs on the phone and pays in the
    # sandbox cashier; the order is paid by the provider's signed notification.
    member.goto("/m/")
    member.get_by_test_id("nav-schedules").tap()
    member.get_by_test_id("schedule-card").filter(has_text=SCHEDULE).get_by_role("link").first.tap()
    grapes = member.get_by_test_id("item-card").filter(has_text=PRODUCT)
    eggs = member.get_by_test_id("item-card").filter(has_text=EGGS)
    grapes.locator("[data-step='1']").tap()
    grapes.locator("[data-step='1']").tap()
    eggs.locator("[data-step='1']").tap()
    expect(member.get_by_test_id("cart-total")).to_contain_text("121.70")
    member.get_by_test_id("checkout-button").tap()
    expect(member.get_by_test_id("cart-line")).to_have_count(2)
    expect(member.get_by_test_id("checkout-total")).to_contain_text("121.70")
    member.get_by_test_id("receiving").get_by_role("radio").first.check()
    member.locator("input[name=payment_method][value=online]").check()
    screenshot(member, "member-checkout")
    member.get_by_test_id("confirm-order").tap()

    expect(member.get_by_test_id("sandbox-cashier")).to_be_visible()
    expect(member.get_by_test_id("cashier-amount")).to_contain_text("121.70")
    member.get_by_test_id("cashier-pay").tap()
    expect(member).to_have_url(re.compile(r"/m/orders/\d+/$"))
    order_path = re.search(r"/m/orders/\d+/", member.url).group(0)
    expect(member.get_by_test_id("order-status")).to_have_attribute(
        "data-status", "paid", timeout=10_000
    )
    expect(member.get_by_test_id("order-line")).to_have_count(2)
    screenshot(member, "member-order-paid")

    # The leader reviews the schedule's orders and confirms the member's order.
    leader.goto(builder_path)
    leader.get_by_test_id("schedule-orders-link").click()
    row = leader.get_by_test_id("order-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("payment-paid")).to_be_visible()
    expect(leader.get_by_test_id("item-total-row")).to_have_count(2)
    screenshot(leader, "leader-orders")
    row.get_by_test_id("confirm-order").click()
    expect(leader.get_by_test_id("message-success")).to_be_visible()

    # The member sees it confirmed, with the pickup code and where and when to collect.
    member.goto(order_path)
    expect(member.get_by_test_id("order-status")).to_have_attribute("data-status", "confirmed")
    expect(member.get_by_test_id("pickup-code-digits")).to_have_text(re.compile(r"^\s*\d{8}\s*$"))
    expect(member.get_by_test_id("pickup-qr")).to_be_visible()
    expect(member.get_by_test_id("order-receiving")).to_contain_text(PICKUP_POINT)
    expect(member.get_by_test_id("order-pickup-window")).to_be_visible()
    screenshot(member, "member-order-confirmed")

    # 10. Time passes: the cut-off is reached and beat closes the schedule (beat does not
    # run under tests, so its task is called here).
    Schedule.objects.filter(pk=schedule_id).update(
        sale_start=timezone.now() - timedelta(days=1), cutoff=timezone.now() - timedelta(minutes=1)
    )
    expire_due_and_close_schedules()

    # The leader prepares and sends the purchase order.
    leader.goto(builder_path)
    leader.get_by_test_id("schedule-fulfilment-link").click()
    expect(leader.get_by_test_id("shortage-rule")).to_be_visible()
    leader.get_by_test_id("prepare-purchase-orders").click()
    leader.get_by_test_id("purchase-order-row").get_by_test_id("purchase-order-link").click()
    purchase_order_path = re.search(r"/leader/purchase-orders/\d+/", leader.url).group(0)
    expect(leader.get_by_test_id("po-line")).to_have_count(2)
    leader.get_by_test_id("send-purchase-order").click()
    expect(leader.get_by_test_id("message-success")).to_be_visible()

    # The supplier acknowledges it and ships.
    supplier.goto("/supplier/")
    supplier.get_by_test_id("nav-purchase-orders").click()
    supplier.get_by_test_id("purchase-order-row").filter(has_text=COMMUNITY).get_by_role(
        "link"
    ).first.click()
    supplier.get_by_test_id("acknowledge").click()
    expect(supplier.get_by_test_id("po-status")).to_contain_text(re.compile("acknowledged", re.I))
    supplier.get_by_test_id("ready-form").get_by_label("Delivery note").fill("冷链车 8 点到")
    supplier.get_by_test_id("mark-ready").click()
    expect(supplier.get_by_test_id("po-dispatch")).to_be_visible()
    screenshot(supplier, "supplier-purchase-order")

    # The leader counts what arrived: one box of eggs is short. The preview names the
    # member and the refund before anything is recorded.
    leader.goto(purchase_order_path)
    leader.get_by_test_id("receive-link").click()
    leader.get_by_label(f"{EGGS}: received").fill("0")
    leader.get_by_label(f"{EGGS}: short").fill("1")
    leader.get_by_test_id("preview-receipt").click()
    expect(leader.get_by_test_id("preview-loss")).to_have_count(1)
    expect(leader.get_by_test_id("loss-amount")).to_contain_text("29.90")
    screenshot(leader, "leader-receipt-preview")
    leader.get_by_test_id("apply-receipt").click()
    expect(leader.get_by_test_id("received-summary")).to_contain_text("29.90")

    # The member sees the partial refund on the order, now ready for pickup.
    member.goto(order_path)
    expect(member.get_by_test_id("order-status")).to_have_attribute(
        "data-status", "ready_for_pickup"
    )
    expect(member.get_by_test_id("refund")).to_have_count(1)
    expect(member.get_by_test_id("refund").first).to_contain_text("29.90")

    # The leader sends the pickup notice; the member acknowledges it on the phone; the
    # leader sees it acknowledged.
    leader.goto(purchase_order_path)
    leader.get_by_test_id("pickup-notice-link").click()
    expect(leader.get_by_test_id("recipient-count")).to_contain_text("1")
    notice_form = leader.get_by_test_id("pickup-notice-form")
    notice_form.get_by_label("Notes").fill("请带好购物袋")
    leader.get_by_test_id("send-pickup-notice").click()
    expect(leader.get_by_test_id("count-total")).to_have_text("1")
    expect(leader.get_by_test_id("count-acknowledged")).to_have_text("0")

    member.goto("/m/inbox/")
    member.get_by_test_id("notification-pickup_notice").get_by_role("link").tap()
    expect(member.get_by_test_id("notification-body")).to_contain_text("请带好购物袋")
    member.get_by_test_id("acknowledge").tap()
    expect(member.get_by_test_id("acknowledged")).to_be_visible()
    expect(leader.get_by_test_id("count-acknowledged")).to_have_text("1", timeout=15_000)

    # At the pickup point the leader types the member's pickup code and hands over.
    member.goto(order_path)
    code = member.get_by_test_id("pickup-code-digits").inner_text().strip()
    leader.goto(f"/leader/communities/{community_id}/")
    leader.get_by_test_id("nav-pickup").click()
    leader.get_by_test_id("pickup-code-input").fill(code)
    leader.get_by_test_id("pickup-code-submit").click()
    expect(leader.get_by_test_id("pickup-order")).to_contain_text(PRODUCT)
    leader.get_by_test_id("hand-over-submit").click()
    expect(leader.get_by_test_id("message-success")).to_be_visible()

    # The member confirms receipt, reviews the grapes and asks for ¥10 back for them.
    member.goto(order_path)
    member.get_by_test_id("confirm-receipt").tap()
    expect(member.get_by_test_id("order-status")).to_have_attribute("data-status", "completed")
    grapes_line = member.get_by_test_id("order-line").filter(has_text=PRODUCT)
    grapes_line.get_by_test_id("line-review-link").tap()
    member.get_by_test_id("rating-5").check()
    member.get_by_test_id("review-text-input").fill("很甜，下次还买")
    member.get_by_test_id("review-submit").tap()
    expect(member).to_have_url(re.compile(re.escape(order_path) + "$"))
    grapes_line = member.get_by_test_id("order-line").filter(has_text=PRODUCT)
    expect(grapes_line.get_by_test_id("line-review")).to_contain_text("很甜")

    grapes_line = member.get_by_test_id("order-line").filter(has_text=PRODUCT)
    grapes_line.get_by_test_id("line-after-sales-link").tap()
    member.get_by_test_id("reason-fieldset").get_by_role("radio").first.check()
    member.get_by_test_id("description-input").fill("有两颗压坏了")
    member.get_by_test_id("amount-input").fill("10.00")
    screenshot(member, "member-after-sales")
    member.get_by_test_id("after-sales-submit").tap()

    # The leader approves it; the refund shows on the member's order.
    leader.goto(f"/leader/communities/{community_id}/")
    leader.get_by_test_id("nav-after-sales").click()
    leader.get_by_role("link", name=re.compile(r"^AS\d+")).first.click()
    leader.get_by_test_id("approve-submit").click()
    expect(leader.get_by_test_id("message-success")).to_be_visible()

    member.goto(order_path)
    expect(member.get_by_test_id("refund")).to_have_count(2)
    expect(member.get_by_test_id("order-refunds")).to_contain_text("10.00")
    expect(member.get_by_test_id("order-refunded")).to_contain_text("39.90")
    screenshot(member, "member-order-refunded")

    # 5. Every role's home page, for the record.
    member.reload()
    screenshot(member, "member-home")
    leader.goto("/leader/")
    expect(leader.get_by_test_id("led-communities")).to_contain_text(COMMUNITY)
    screenshot(leader, "leader-home")

"""After pickup: the member confirms receipt, reviews a line (stars, text, photos) and asks
for after-sales within the window; the leader decides (approve / reject with a reason /
escalate) and sees reviews; platform staff decide escalated requests; ratings on the
leaders' catalog. Bad input refused in place, permissions, query budgets on the lists."""

import html as html_lib
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from fulfillment.models import (
    AfterSalesPhoto,
    AfterSalesReason,
    AfterSalesRequest,
    AfterSalesStatus,
    Review,
    ReviewPhoto,
)
from fulfillment.services.aftersales import (
    after_sales_escalate,
    after_sales_submit,
    review_create,
)
from fulfillment.services.pickup import pickup_hand_over
from orders.models import OrderLine, OrderStatus, RefundStatus
from tests.factories import CommunityFactory, StaffFactory, UserFactory
from tests.fulfillment.test_pickup_pages import ready_round

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png(name="photo.png", color=(200, 30, 30), fmt="PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), color).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def not_an_image() -> SimpleUploadedFile:
    return SimpleUploadedFile("notes.png", b"this is text, not a picture", content_type="image/png")


def error_of(html: str, name: str) -> str:
    match = re.search(rf'data-testid="error-{name}">([^<]*)<', html)
    return html_lib.unescape(match.group(1)) if match else ""


def form_errors(html: str) -> str:
    match = re.search(r'data-testid="form-errors">(.*?)</div>', html, re.S)
    return html_lib.unescape(match.group(1)) if match else ""


def collected(round_, index=0):
    """Hand the index-th order over; returns it refreshed."""
    order = round_.orders[index]
    pickup_hand_over(order=order, actor=round_.shop.leader)
    order.refresh_from_db()
    return order


@pytest.fixture
def round_(db):
    return ready_round(members=2)


@pytest.fixture
def order(round_):
    return collected(round_)


@pytest.fixture
def grapes(order, round_):
    return order.lines.get(item=round_.shop.grapes)


@pytest.fixture
def member_client(order):
    client = Client()
    client.force_login(order.member)
    return client


@pytest.fixture
def leader_client(round_):
    client = Client()
    client.force_login(round_.shop.leader)
    return client


def order_url(order):
    return reverse("orders:member_order", args=[order.number])


def review_url(line):
    return reverse("fulfillment:member_review", args=[line.pk])


def new_request_url(line):
    return reverse("fulfillment:member_after_sales_new", args=[line.pk])


def request_data(**overrides):
    data = {
        "reason": AfterSalesReason.QUALITY,
        "description": "Half of them were soft.",
        "amount": "10.00",
    }
    data.update(overrides)
    return data


def submit(line, amount="10.00", **kwargs):
    return after_sales_submit(
        member=line.order.member,
        order_line=line,
        reason=kwargs.pop("reason", AfterSalesReason.QUALITY),
        description=kwargs.pop("description", "Soft grapes"),
        amount=Decimal(amount),
        **kwargs,
    )


# Confirm receipt


def test_order_page_offers_confirm_receipt_review_and_after_sales(member_client, order, grapes):
    html = member_client.get(order_url(order)).content.decode()
    assert 'data-testid="confirm-receipt"' in html
    assert reverse("fulfillment:member_confirm_receipt", args=[order.number]) in html
    assert html.count('data-testid="line-review-link"') == 2
    assert html.count('data-testid="line-after-sales-link"') == 2
    assert review_url(grapes) in html and new_request_url(grapes) in html
    deadline = timezone.localtime(grapes.picked_up_at + timedelta(hours=48))
    assert f"After-sales until {deadline:%Y-%m-%d %H:%M}." in html
    assert 'data-testid="order-picked-up"' in html


def test_nothing_to_do_before_pickup(round_):
    order = round_.orders[1]  # ready, not handed over
    client = Client()
    client.force_login(order.member)
    html = client.get(order_url(order)).content.decode()
    assert 'data-testid="confirm-receipt"' not in html
    assert 'data-testid="line-review-link"' not in html
    assert 'data-testid="line-after-sales-link"' not in html
    line = order.lines.first()
    html = client.get(review_url(line)).content.decode()
    assert 'data-testid="review-not-yet"' in html and 'data-testid="review-form"' not in html
    response = client.post(review_url(line), {"rating": "5"})
    assert (
        form_errors(response.content.decode())
        .strip()
        .startswith("<p>You can do this once you have collected the item.")
    )
    assert not Review.objects.exists()
    html = client.get(new_request_url(line)).content.decode()
    assert 'data-testid="after-sales-not-yet"' in html
    response = client.post(new_request_url(line), request_data())
    assert "You can do this once you have collected the item." in response.content.decode()
    assert not AfterSalesRequest.objects.exists()


def test_confirm_receipt_completes_the_order(member_client, order):
    url = reverse("fulfillment:member_confirm_receipt", args=[order.number])
    assert member_client.get(url).status_code == 405
    response = member_client.post(url)
    assert response.status_code == 302 and response["Location"] == order_url(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.completed_at is not None
    html = member_client.get(order_url(order)).content.decode()
    assert "Thank you: the order is complete." in html
    assert 'data-testid="confirm-receipt"' not in html
    # Reviews and after-sales remain possible after completion.
    assert 'data-testid="line-review-link"' in html


def test_confirm_receipt_before_pickup_is_refused(round_):
    order = round_.orders[1]
    client = Client()
    client.force_login(order.member)
    response = client.post(
        reverse("fulfillment:member_confirm_receipt", args=[order.number]), follow=True
    )
    assert "Only an order you have collected can be confirmed." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP


def test_confirm_receipt_of_another_members_order_is_404(order, round_):
    client = Client()
    client.force_login(round_.orders[1].member)
    url = reverse("fulfillment:member_confirm_receipt", args=[order.number])
    assert client.post(url).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKED_UP


# Reviews


def test_review_page_has_accessible_stars(member_client, grapes):
    html = member_client.get(review_url(grapes)).content.decode()
    assert 'data-testid="review-form"' in html
    assert 'enctype="multipart/form-data"' in html
    fieldset = html[html.find('data-testid="rating-fieldset"') : html.find("</fieldset>")]
    assert "<legend>Your rating</legend>" in fieldset
    assert fieldset.count('type="radio"') == 5
    for value in range(1, 6):
        assert f'<label class="star-choice" for="id_rating_{value}">' in fieldset
        assert f'id="id_rating_{value}"' in fieldset
    assert '<span class="star-text">1 star</span>' in fieldset
    assert '<span class="star-text">5 stars</span>' in fieldset
    assert "multiple" in html and 'data-testid="photos-input"' in html
    assert "Up to 3 photos" in html


def test_review_with_photos(member_client, order, grapes, settings, tmp_path):
    response = member_client.post(
        review_url(grapes),
        {
            "rating": "4",
            "text": " Sweet and fresh ",
            "photos": [png("a.png"), png("b.jpg", fmt="JPEG")],
        },
    )
    assert response.status_code == 302 and response["Location"] == order_url(order)
    review = Review.objects.get()
    assert (review.rating, review.text, review.member, review.offer_id) == (
        4,
        "Sweet and fresh",
        order.member,
        grapes.item.offer_id,
    )
    photos = list(review.photos.all())
    assert len(photos) == 2
    assert all((tmp_path / photo.image.name).exists() for photo in photos)
    html = member_client.get(order_url(order)).content.decode()
    assert "Thank you for your review." in html
    assert 'data-testid="line-review"' in html
    assert 'aria-label="4 stars of 5"' in html
    assert html.count('data-testid="line-review-link"') == 1  # only the eggs now
    page = member_client.get(review_url(grapes)).content.decode()
    assert 'data-testid="your-review"' in page and 'data-testid="review-form"' not in page
    assert page.count('data-testid="review-photo"') == 2


def test_review_twice_is_refused(member_client, grapes):
    member_client.post(review_url(grapes), {"rating": "5"})
    response = member_client.post(review_url(grapes), {"rating": "1", "text": "again"})
    assert response.status_code == 200
    assert "You have already reviewed this item." in form_errors(response.content.decode())
    assert Review.objects.get().rating == 5


@pytest.mark.parametrize("rating", ["0", "6", "", "three", "-1"])
def test_rating_out_of_range_is_refused_in_place(member_client, grapes, rating):
    response = member_client.post(review_url(grapes), {"rating": rating, "text": "ok"})
    html = response.content.decode()
    assert response.status_code == 200
    assert error_of(html, "rating") == "Give 1 to 5 stars."
    assert 'aria-describedby="rating-error"' in html
    assert not Review.objects.exists()


def test_four_photos_are_refused(member_client, grapes):
    response = member_client.post(
        review_url(grapes), {"rating": "5", "photos": [png(f"{i}.png") for i in range(4)]}
    )
    assert error_of(response.content.decode(), "photos") == "At most 3 photos."
    assert not Review.objects.exists() and not ReviewPhoto.objects.exists()


def test_a_file_that_is_not_an_image_is_refused(member_client, grapes):
    response = member_client.post(
        review_url(grapes), {"rating": "5", "photos": [png(), not_an_image()]}
    )
    assert error_of(response.content.decode(), "photos") == (
        "This file is not an image we can use (JPEG, PNG or WebP)."
    )
    assert not Review.objects.exists() and not ReviewPhoto.objects.exists()


def test_review_of_another_members_line_is_404(grapes, round_):
    client = Client()
    client.force_login(round_.orders[1].member)
    assert client.get(review_url(grapes)).status_code == 404
    assert client.post(review_url(grapes), {"rating": "5"}).status_code == 404
    assert not Review.objects.exists()


def test_leader_sees_reviews_on_the_order_and_in_her_list(leader_client, order, grapes, round_):
    review_create(member=order.member, order_line=grapes, rating=2, text="Too sour", photos=[png()])
    html = leader_client.get(reverse("orders:leader_order", args=[order.pk])).content.decode()
    assert 'data-testid="line-review"' in html and "Too sour" in html
    assert 'aria-label="2 stars of 5"' in html
    url = reverse("fulfillment:leader_reviews", args=[round_.shop.schedule.community_id])
    html = leader_client.get(url).content.decode()
    assert html.count('data-testid="review"') == 1
    assert "Too sour" in html and order.number in html and str(order.member) in html
    assert 'data-testid="nav-reviews"' in html


def test_leader_reviews_permissions(round_, order):
    url = reverse("fulfillment:leader_reviews", args=[round_.shop.schedule.community_id])
    client = Client()
    client.force_login(CommunityFactory().leader)
    assert client.get(url).status_code == 404
    client.force_login(order.member)
    assert client.get(url).status_code == 403


# After-sales: the member


def test_after_sales_page_shows_deadline_and_claimable(member_client, grapes):
    html = member_client.get(new_request_url(grapes)).content.decode()
    assert 'data-testid="after-sales-form"' in html
    deadline = timezone.localtime(grapes.picked_up_at + timedelta(hours=48))
    assert f"{deadline:%Y-%m-%d %H:%M}" in html
    assert f"¥{grapes.amount}" in html
    assert f'value="{grapes.amount}"' in html  # the amount starts at the most
    assert 'data-testid="reason-fieldset"' in html and "<legend>Reason</legend>" in html
    for value, _label in AfterSalesReason.choices:
        assert f'value="{value}"' in html


def test_member_files_a_request(member_client, order, grapes, round_):
    response = member_client.post(
        new_request_url(grapes), request_data(amount="12.50", photos=[png(), png("b.png")])
    )
    request = AfterSalesRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "fulfillment:member_after_sales_detail", args=[request.pk]
    )
    assert (request.order_line, request.requested_amount, request.status) == (
        grapes,
        Decimal("12.50"),
        AfterSalesStatus.SUBMITTED,
    )
    assert request.photos.count() == 2
    html = member_client.get(response["Location"]).content.decode()
    assert f"Request {request.number} sent" in html
    assert 'data-testid="after-sales-status"' in html and "Submitted" in html
    # The order page lists it and the claimable amount shrinks.
    html = member_client.get(order_url(order)).content.decode()
    assert 'data-testid="order-after-sales-request"' in html
    assert 'data-testid="line-after-sales-request"' in html
    page = member_client.get(new_request_url(grapes)).content.decode()
    assert f"¥{grapes.amount - Decimal('12.50')}" in page
    # The member's list.
    html = member_client.get(reverse("fulfillment:member_after_sales")).content.decode()
    assert html.count('data-testid="after-sales-card"') == 1


def test_amount_above_claimable_is_refused(member_client, grapes):
    too_much = grapes.amount + Decimal("0.01")
    response = member_client.post(new_request_url(grapes), request_data(amount=str(too_much)))
    assert response.status_code == 200
    assert error_of(response.content.decode(), "amount") == (
        f"At most ¥{grapes.amount} can be refunded for this item."
    )
    assert not AfterSalesRequest.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "0", "Ask for an amount above zero."),
        ("amount", "-3", "Ask for an amount above zero."),
        ("amount", "", "Ask for an amount above zero."),
        ("amount", "abc", "Enter a number."),
        ("description", "", "Describe the problem."),
        ("description", "   ", "Describe the problem."),
        ("reason", "", "Choose a reason."),
        ("reason", "broken", "Select a valid choice. broken is not one of the available choices."),
    ],
)
def test_bad_after_sales_input_is_refused_in_place(member_client, grapes, field, value, message):
    response = member_client.post(new_request_url(grapes), request_data(**{field: value}))
    assert response.status_code == 200
    assert error_of(response.content.decode(), field) == message
    assert not AfterSalesRequest.objects.exists()


def test_after_sales_photos_are_checked(member_client, grapes):
    response = member_client.post(
        new_request_url(grapes), request_data(photos=[png(f"{i}.png") for i in range(4)])
    )
    assert error_of(response.content.decode(), "photos") == "At most 3 photos."
    response = member_client.post(new_request_url(grapes), request_data(photos=[not_an_image()]))
    assert error_of(response.content.decode(), "photos") == (
        "This file is not an image we can use (JPEG, PNG or WebP)."
    )
    assert not AfterSalesRequest.objects.exists() and not AfterSalesPhoto.objects.exists()


def test_after_sales_past_the_deadline_is_refused(member_client, order, grapes):
    picked = timezone.now() - timedelta(hours=49)
    OrderLine.objects.filter(order=order).update(picked_up_at=picked)
    deadline = timezone.localtime(picked + timedelta(hours=48))
    text = f"{deadline:%Y-%m-%d %H:%M}"
    html = member_client.get(new_request_url(grapes)).content.decode()
    assert 'data-testid="after-sales-closed"' in html
    assert f"After-sales requests for this item closed at {text}." in html
    assert 'data-testid="after-sales-form"' not in html
    response = member_client.post(new_request_url(grapes), request_data())
    assert response.status_code == 200
    body = response.content.decode()
    assert f"After-sales requests for this item closed at {text}." in form_errors(body)
    assert not AfterSalesRequest.objects.exists()
    html = member_client.get(order_url(order)).content.decode()
    assert 'data-testid="line-after-sales-link"' not in html
    assert f"After-sales closed at {text}." in html
    assert 'data-testid="line-review-link"' in html  # reviews have no window


def test_nothing_left_to_claim(member_client, grapes):
    submit(grapes, amount=str(grapes.amount))
    html = member_client.get(new_request_url(grapes)).content.decode()
    assert 'data-testid="after-sales-nothing-left"' in html
    response = member_client.post(new_request_url(grapes), request_data(amount="1.00"))
    assert "At most ¥0.00 can be refunded for this item." in response.content.decode()
    assert AfterSalesRequest.objects.count() == 1


def test_member_sees_only_her_own_requests(grapes, round_):
    request = submit(grapes)
    client = Client()
    client.force_login(round_.orders[1].member)
    assert client.get(new_request_url(grapes)).status_code == 404
    assert client.post(new_request_url(grapes), request_data()).status_code == 404
    url = reverse("fulfillment:member_after_sales_detail", args=[request.pk])
    assert client.get(url).status_code == 404
    html = client.get(reverse("fulfillment:member_after_sales")).content.decode()
    assert 'data-testid="no-after-sales"' in html


def test_anonymous_is_sent_to_log_in(grapes):
    client = Client()
    response = client.get(review_url(grapes))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# After-sales: the leader


def leader_detail(request):
    return reverse("fulfillment:leader_after_sales_detail", args=[request.pk])


def action_url(request, action, side="leader"):
    return reverse(f"fulfillment:{side}_after_sales_{action}", args=[request.pk])


def test_leader_list_filters_and_links(leader_client, grapes, round_, order):
    first = submit(grapes, amount="5.00")
    second = submit(grapes, amount="6.00", reason=AfterSalesReason.DAMAGED)
    after_sales_escalate(request=first, actor=round_.shop.leader)
    url = reverse("fulfillment:leader_after_sales", args=[round_.shop.schedule.community_id])
    html = leader_client.get(url).content.decode()
    assert html.count('data-testid="after-sales-row"') == 2
    assert html.index(second.number) < html.index(first.number)  # newest first
    assert leader_detail(first) in html
    html = leader_client.get(url, {"status": "escalated"}).content.decode()
    assert html.count('data-testid="after-sales-row"') == 1 and first.number in html
    html = leader_client.get(url, {"status": "submitted"}).content.decode()
    assert html.count('data-testid="after-sales-row"') == 1 and second.number in html
    html = leader_client.get(url, {"status": "nonsense"}).content.decode()
    assert html.count('data-testid="after-sales-row"') == 2
    assert 'data-testid="filters-ignored"' in html
    assert 'data-testid="nav-after-sales"' in html


def test_leader_list_is_paginated(leader_client, grapes, round_, settings):
    settings.PAGINATE_BY = 2
    for _ in range(3):
        submit(grapes, amount="1.00")
    url = reverse("fulfillment:leader_after_sales", args=[round_.shop.schedule.community_id])
    html = leader_client.get(url).content.decode()
    assert html.count('data-testid="after-sales-row"') == 2
    assert 'data-testid="pagination"' in html
    html = leader_client.get(url, {"page": 2}).content.decode()
    assert html.count('data-testid="after-sales-row"') == 1


def test_leader_detail_shows_everything(leader_client, grapes, order):
    request = submit(grapes, amount="7.00", photos=[png()])
    html = leader_client.get(leader_detail(request)).content.decode()
    assert request.number in html
    assert 'data-testid="after-sales-photo"' in html
    assert str(order.member) in html and order.member.masked_phone in html
    assert grapes.product_name in html
    assert f"¥{grapes.amount - Decimal('7.00')}" in html  # still claimable
    assert 'data-testid="history"' in html
    for form in ("approve-form", "reject-form", "escalate-form"):
        assert f'data-testid="{form}"' in html
    assert '<label for="id_reject-reason">' in html


def test_leader_approves_and_the_member_is_refunded(
    leader_client, grapes, order, django_capture_on_commit_callbacks
):
    request = submit(grapes, amount="7.00")
    with django_capture_on_commit_callbacks(execute=True):
        response = leader_client.post(
            action_url(request, "approve"), {"approve-note": "Sorry about that"}
        )
    assert response.status_code == 302 and response["Location"] == leader_detail(request)
    request.refresh_from_db()
    assert request.status == AfterSalesStatus.REFUNDED
    assert request.decision_reason == "Sorry about that"
    assert request.refund.status == RefundStatus.SUCCEEDED
    grapes.refresh_from_db()
    assert grapes.refunded_amount == Decimal("7.00")
    html = leader_client.get(leader_detail(request)).content.decode()
    assert f"Request {request.number} approved; ¥7.00 is refunded." in html
    assert 'data-testid="after-sales-decide"' not in html
    member = Client()
    member.force_login(order.member)
    detail = reverse("fulfillment:member_after_sales_detail", args=[request.pk])
    html = member.get(detail).content.decode()
    assert 'data-testid="after-sales-decision"' in html and "Sorry about that" in html
    assert 'data-testid="after-sales-refund"' in html
    html = member.get(order_url(order)).content.decode()
    assert 'data-testid="order-refunded"' in html


def test_reject_needs_a_reason(leader_client, grapes):
    request = submit(grapes)
    response = leader_client.post(action_url(request, "reject"), {"reject-reason": "  "})
    assert response.status_code == 200
    html = response.content.decode()
    assert error_of(html, "reject-reason") == "Give a reason; the member sees it."
    request.refresh_from_db()
    assert request.status == AfterSalesStatus.SUBMITTED
    response = leader_client.post(
        action_url(request, "reject"), {"reject-reason": "The photo shows fresh grapes."}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == AfterSalesStatus.REJECTED
    assert request.decision_reason == "The photo shows fresh grapes."


def test_escalated_request_is_decided_by_staff_only(leader_client, grapes, round_):
    request = submit(grapes, amount="4.00")
    response = leader_client.post(
        action_url(request, "escalate"), {"escalate-reason": "Member disputes"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == AfterSalesStatus.ESCALATED and request.escalated_at
    html = leader_client.get(leader_detail(request)).content.decode()
    assert 'data-testid="after-sales-with-platform"' in html
    assert 'data-testid="approve-form"' not in html
    # The leader deciding anyway is refused.
    response = leader_client.post(action_url(request, "approve"), {})
    assert response.status_code == 200
    assert "Platform staff decide escalated requests." in form_errors(response.content.decode())
    response = leader_client.post(action_url(request, "reject"), {"reject-reason": "no"})
    assert "Platform staff decide escalated requests." in form_errors(response.content.decode())
    request.refresh_from_db()
    assert request.status == AfterSalesStatus.ESCALATED
    # Escalating twice is refused too.
    response = leader_client.post(action_url(request, "escalate"), {})
    assert "This request has already been decided." in form_errors(response.content.decode())


def test_decided_request_cannot_be_decided_again(leader_client, grapes):
    request = submit(grapes)
    leader_client.post(action_url(request, "reject"), {"reject-reason": "No"})
    response = leader_client.post(action_url(request, "approve"), {})
    assert response.status_code == 200
    assert "This request has already been decided." in form_errors(response.content.decode())
    request.refresh_from_db()
    assert request.status == AfterSalesStatus.REJECTED


@pytest.mark.parametrize("action", ["approve", "reject", "escalate"])
def test_decisions_are_post_only(leader_client, grapes, action):
    request = submit(grapes)
    assert leader_client.get(action_url(request, action)).status_code == 405


def test_leader_detail_accepts_no_post(leader_client, grapes):
    request = submit(grapes)
    assert leader_client.post(leader_detail(request), {}).status_code == 405


def test_another_leader_gets_404(grapes, round_):
    request = submit(grapes)
    client = Client()
    client.force_login(CommunityFactory().leader)
    assert client.get(leader_detail(request)).status_code == 404
    for action in ("approve", "reject", "escalate"):
        assert client.post(action_url(request, action), {"reject-reason": "x"}).status_code == 404
    url = reverse("fulfillment:leader_after_sales", args=[round_.shop.schedule.community_id])
    assert client.get(url).status_code == 404
    request.refresh_from_db()
    assert request.status == AfterSalesStatus.SUBMITTED


def test_member_cannot_use_leader_pages(grapes, round_, order):
    request = submit(grapes)
    client = Client()
    client.force_login(order.member)
    assert client.get(leader_detail(request)).status_code == 403
    assert client.post(action_url(request, "approve")).status_code == 403
    assert client.get(reverse("fulfillment:staff_after_sales")).status_code == 403


# After-sales: platform staff


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(StaffFactory())
    return client


def test_staff_queue_and_decisions(
    staff_client, grapes, round_, django_capture_on_commit_callbacks
):
    kept = submit(grapes, amount="3.00")
    first = submit(grapes, amount="2.00")
    second = submit(grapes, amount="1.00")
    after_sales_escalate(request=first, actor=round_.shop.leader, reason="Unclear")
    after_sales_escalate(request=second, actor=round_.shop.leader)
    html = staff_client.get(reverse("fulfillment:staff_after_sales")).content.decode()
    assert html.count('data-testid="after-sales-row"') == 2
    assert html.index(first.number) < html.index(second.number)  # oldest escalation first
    assert kept.number not in html
    assert 'data-testid="nav-staff-after-sales"' in html
    detail = reverse("fulfillment:staff_after_sales_detail", args=[first.pk])
    html = staff_client.get(detail).content.decode()
    assert 'data-testid="approve-form"' in html and 'data-testid="reject-form"' in html
    assert 'data-testid="escalate-form"' not in html
    assert "Unclear" in html  # the leader's reason, in the history
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(action_url(first, "approve", "staff"), {})
    assert response.status_code == 302 and response["Location"] == detail
    first.refresh_from_db()
    assert first.status == AfterSalesStatus.REFUNDED
    response = staff_client.post(action_url(second, "reject", "staff"), {"reject-reason": ""})
    assert error_of(response.content.decode(), "reject-reason") == (
        "Give a reason; the member sees it."
    )
    staff_client.post(action_url(second, "reject", "staff"), {"reject-reason": "No evidence"})
    second.refresh_from_db()
    assert second.status == AfterSalesStatus.REJECTED
    html = staff_client.get(reverse("fulfillment:staff_after_sales")).content.decode()
    assert 'data-testid="no-requests"' in html
    html = staff_client.get(
        reverse("fulfillment:staff_after_sales"), {"queue": "decided"}
    ).content.decode()
    assert html.count('data-testid="after-sales-row"') == 2


def test_staff_see_only_escalated_requests(staff_client, grapes):
    request = submit(grapes)
    detail = reverse("fulfillment:staff_after_sales_detail", args=[request.pk])
    assert staff_client.get(detail).status_code == 404
    assert staff_client.post(action_url(request, "approve", "staff")).status_code == 404
    assert staff_client.get(action_url(request, "approve", "staff")).status_code == 405
    request.refresh_from_db()
    assert request.status == AfterSalesStatus.SUBMITTED


def test_leader_cannot_use_staff_pages(leader_client, grapes, round_):
    request = submit(grapes)
    after_sales_escalate(request=request, actor=round_.shop.leader)
    detail = reverse("fulfillment:staff_after_sales_detail", args=[request.pk])
    assert leader_client.get(detail).status_code == 403
    assert leader_client.post(action_url(request, "approve", "staff")).status_code == 403


# Catalog ratings


def test_catalog_shows_the_average_rating(round_, order, grapes):
    other = collected(round_, 1)
    review_create(member=order.member, order_line=grapes, rating=5)
    review_create(
        member=other.member, order_line=other.lines.get(item=round_.shop.grapes), rating=4
    )
    client = Client()
    client.force_login(CommunityFactory().leader)
    html = client.get(reverse("catalog:leader_catalog")).content.decode()
    ratings = re.findall(r'data-testid="offer-rating">(.*?)</p>', html, re.S)
    assert len(ratings) == 2
    assert any("4.5 of 5 (2 reviews)" in text for text in ratings)
    assert any("No reviews yet" in text for text in ratings)
    offer_id = grapes.item.offer_id
    html = client.get(reverse("catalog:leader_offer", args=[offer_id])).content.decode()
    assert "4.5 of 5 (2 reviews)" in html
    egg_offer = round_.shop.eggs.offer_id
    html = client.get(reverse("catalog:leader_offer", args=[egg_offer])).content.decode()
    assert "No reviews yet" in html


# Query budgets


def _queries(client, url, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return len(captured.captured_queries)


def _requests(line, count, **fields):
    for _ in range(count):
        AfterSalesRequest.objects.create(
            order=line.order,
            order_line=line,
            member=line.order.member,
            community=line.order.community,
            reason=AfterSalesReason.OTHER,
            description="x",
            requested_amount=Decimal("0.10"),
            **fields,
        )


@pytest.mark.parametrize("side", ["leader", "staff", "member"])
def test_after_sales_lists_query_count_is_flat(grapes, round_, order, side):
    escalated = {"status": AfterSalesStatus.ESCALATED, "escalated_at": timezone.now()}
    _requests(grapes, 3, **(escalated if side == "staff" else {}))
    client = Client()
    if side == "leader":
        client.force_login(round_.shop.leader)
        url = reverse("fulfillment:leader_after_sales", args=[round_.shop.schedule.community_id])
    elif side == "staff":
        client.force_login(StaffFactory())
        url = reverse("fulfillment:staff_after_sales")
    else:
        client.force_login(order.member)
        url = reverse("fulfillment:member_after_sales")
    _queries(client, url)
    few = _queries(client, url)
    _requests(grapes, 27, **(escalated if side == "staff" else {}))
    many = _queries(client, url)
    assert many == few
    assert client.get(url).content.decode().count('data-testid="after-sales-') >= 20


def test_leader_reviews_query_count_is_flat(client):
    round_ = ready_round(members=15)
    for index in range(15):
        collected(round_, index)
    lines = list(OrderLine.objects.filter(order__schedule=round_.shop.schedule).order_by("id"))
    assert len(lines) == 30
    url = reverse("fulfillment:leader_reviews", args=[round_.shop.schedule.community_id])
    client.force_login(round_.shop.leader)

    def review(line):
        review = Review.objects.create(
            order_line=line, member=line.order.member, offer=line.item.offer, rating=3, text="ok"
        )
        ReviewPhoto.objects.create(review=review, image="reviews/x.png")

    for line in lines[:3]:
        review(line)
    _queries(client, url)
    few = _queries(client, url)
    for line in lines[3:]:
        review(line)
    many = _queries(client, url)
    assert many == few


def test_member_order_page_query_count_does_not_grow_with_requests(member_client, order, grapes):
    _requests(grapes, 1)
    _queries(member_client, order_url(order))
    few = _queries(member_client, order_url(order))
    _requests(grapes, 20)
    assert _queries(member_client, order_url(order)) == few


def test_plain_user_cannot_see_staff_queue():
    client = Client()
    client.force_login(UserFactory())
    assert client.get(reverse("fulfillment:staff_after_sales")).status_code == 403


def test_unknown_staff_queue_shows_the_escalated_ones(staff_client, grapes, round_):
    request = submit(grapes)
    after_sales_escalate(request=request, actor=round_.shop.leader)
    html = staff_client.get(reverse("fulfillment:staff_after_sales"), {"queue": "x"}).content
    assert html.decode().count('data-testid="after-sales-row"') == 1


def test_cash_refund_is_not_claimed_twice():
    """A pay-at-pickup order has no online payment: an approved request is handed back in
    cash; what it returned can no longer be claimed."""
    round_ = ready_round(members=0, at_pickup=1)
    order = round_.at_pickup[0]
    pickup_hand_over(order=order, actor=round_.shop.leader, settled=True)
    line = order.lines.get(item=round_.shop.grapes)
    request = submit(line, amount=str(line.amount))
    leader = Client()
    leader.force_login(round_.shop.leader)
    leader.post(action_url(request, "approve"), {})
    request.refresh_from_db()
    assert request.status == AfterSalesStatus.REFUNDED and request.refund is None
    member = Client()
    member.force_login(order.member)
    html = member.get(new_request_url(line)).content.decode()
    assert 'data-testid="after-sales-nothing-left"' in html
    response = member.post(new_request_url(line), request_data(amount="1.00"))
    assert error_of(response.content.decode(), "amount") == (
        "At most ¥0.00 can be refunded for this item."
    )
    assert AfterSalesRequest.objects.count() == 1
    html = member.get(order_url(order)).content.decode()
    assert new_request_url(line) not in html  # the grapes are settled
    assert html.count('data-testid="line-after-sales-link"') == 1  # the eggs are not


def test_order_page_claimable_matches_the_service():
    """The order page counts from loaded rows what the service counts with queries."""
    from fulfillment.selectors.aftersales import member_order_aftercare
    from fulfillment.services.aftersales import after_sales_approve, after_sales_claimable

    round_ = ready_round(members=1, at_pickup=1, grapes_short=1)
    online, cash = round_.orders[0], round_.at_pickup[0]
    pickup_hand_over(order=online, actor=round_.shop.leader)
    pickup_hand_over(order=cash, actor=round_.shop.leader, settled=True)
    for order in (online, cash):
        order.refresh_from_db()
        grapes = order.lines.get(item=round_.shop.grapes)
        submit(grapes, amount="1.00")
        approved = submit(grapes, amount="2.00")
        after_sales_approve(request=approved, actor=round_.shop.leader)
        lines = list(order.lines.order_by("id"))
        member_order_aftercare(order, lines)
        for line in lines:
            line.refresh_from_db()
            assert line.aftercare.claimable == after_sales_claimable(line), (order, line)

"""The public share page of a schedule and its poster PNG."""

import io
from datetime import timedelta
from unittest import mock

import pytest
import segno
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from scheduling import poster
from scheduling.services import schedules
from tests.scheduling.test_member_pages import add_bulk_items, make_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(community, leader, listed_offer):
    return make_schedule(community, leader, listed_offer, highlight="云南直发")


def share_url(schedule):
    return reverse("scheduling:share", args=[schedule.share_token])


def test_share_page_is_public(client, schedule, community):
    response = client.get(share_url(schedule), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert community.name in html
    assert schedule.title in html
    assert "¥15.00" in html
    assert "60 left" in html
    assert "云南直发" in html
    cutoff_iso = timezone.localtime(schedule.cutoff).isoformat()
    assert f'datetime="{cutoff_iso}"' in html
    assert "1 号楼大堂" in html
    assert 'data-testid="pickup-window"' in html
    invite = reverse("accounts:invite", args=[community.invite_code])
    assert f'href="{invite}"' in html
    assert '<meta property="og:title"' in html
    assert f'content="http://testserver{share_url(schedule)}"' in html
    assert 'data-testid="bottom-nav"' not in html


@pytest.mark.parametrize("state", ["draft", "cancelled"])
def test_share_page_404_for_hidden_states(client, community, leader, listed_offer, state):
    schedule = make_schedule(community, leader, listed_offer, publish=state != "draft")
    if state == "cancelled":
        schedules.schedule_cancel(schedule=schedule, actor=leader, reason="缺货")
    assert client.get(share_url(schedule)).status_code == 404
    poster_url = reverse("scheduling:share_poster", args=[schedule.share_token])
    assert client.get(poster_url).status_code == 404


def test_share_page_of_closed_schedule_still_readable(client, schedule):
    assert schedules.schedule_close(
        schedule_id=schedule.pk, now=schedule.cutoff + timedelta(minutes=1)
    )
    response = client.get(share_url(schedule), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert b"Ordering has closed" in response.content


def test_unknown_token_is_404(client):
    assert client.get(reverse("scheduling:share", args=["nope"])).status_code == 404


def test_poster_is_a_png_with_a_qr_to_the_share_page(client, schedule):
    url = reverse("scheduling:share_poster", args=[schedule.share_token])
    with mock.patch("segno.make", wraps=segno.make) as make:
        response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    make.assert_called_once()
    assert make.call_args.args[0] == f"http://testserver{share_url(schedule)}"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.size == (poster.WIDTH, poster.HEIGHT) == (750, 1200)
    image = image.convert("RGB")
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 2  # not blank: text, band, QR
    # The QR area holds black modules.
    qr_box = image.crop(
        (
            (poster.WIDTH - poster.QR_SIZE) // 2,
            poster.HEIGHT - poster.QR_SIZE - 90,
            (poster.WIDTH + poster.QR_SIZE) // 2,
            poster.HEIGHT - 90,
        )
    )
    assert qr_box.convert("L").getextrema() == (0, 255)


def test_poster_lists_at_most_six_items(client, schedule, listed_offer):
    add_bulk_items(schedule, listed_offer.supplier, listed_offer.product.category, 9)
    calls = []
    real = poster.build_poster

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    with mock.patch.object(poster, "build_poster", spy):
        response = client.get(reverse("scheduling:share_poster", args=[schedule.share_token]))
    assert response.status_code == 200
    assert len(calls[0]["items"]) == 6
    assert "4" in calls[0]["more_text"]
    assert calls[0]["items"][0].price.startswith("¥15.00")


def test_build_poster_without_network_or_request():
    png = poster.build_poster(
        title="周末水果团" * 5,
        community_name="阳光小区",
        items=[poster.PosterItem(name="阳光玫瑰葡萄" * 4, price="¥15.00 / 盒")] * 8,
        more_text="",
        cutoff_text="截单 05-01 23:00",
        pickup_text="自提 05-02 15:00 – 20:00 · 1 号楼大堂",
        scan_text="扫码查看",
        url="https://example.com/s/abc/",
    )
    assert Image.open(io.BytesIO(png)).size == (750, 1200)


def test_share_page_queries_do_not_grow_with_items(client, schedule, listed_offer):
    url = share_url(schedule)
    supplier, category = listed_offer.supplier, listed_offer.product.category
    add_bulk_items(schedule, supplier, category, 2)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    add_bulk_items(schedule, supplier, category, 197, start=2)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.content.decode().count('data-testid="item-card"') == 200
    assert len(large) == len(small)
    assert len(large) <= 10

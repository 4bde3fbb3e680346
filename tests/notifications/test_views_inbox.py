"""The inbox every user has: the member layout under /m/inbox/, the dashboard layout
under /inbox/; the unread badge, acknowledging (with and without htmx) and the
notification settings page."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.kinds import KINDS
from notifications.models import Acknowledgement, Channel, Delivery, NotificationPreference
from notifications.services import notify
from tests.accounts.utils import by_testid
from tests.factories import CommunityFactory, UserFactory

pytestmark = pytest.mark.django_db

LAYOUTS = ["member", "dashboard"]
LOGIN = reverse("account_login")


@pytest.fixture
def member(db):
    return UserFactory(email="member@example.com")


@pytest.fixture
def other(db):
    return UserFactory()


def _welcome(user, name="阳光小区"):
    broadcast = notify(
        recipients=[user],
        kind="community_welcome",
        context={"community_name": name},
        link=reverse("accounts:member_home"),
    )
    return broadcast.notifications.get()


def _url(layout, name, *args):
    return reverse(f"notifications:{layout}_{name}", args=args)


def _badge(response) -> str | None:
    """The number in the unread badge of the page's navigation, None without a badge."""
    body = response.content.decode()
    badges = re.findall(r'data-testid="unread-badge"[^>]*>(.*?)</a>', body, flags=re.S)
    if not badges:
        return None
    assert len(badges) == 1
    return re.sub(r"\D", "", re.sub(r"<[^>]+>", "", badges[0]))


def test_inbox_urls():
    assert _url("member", "inbox") == "/m/inbox/"
    assert _url("dashboard", "inbox") == "/inbox/"
    assert _url("member", "preferences") == "/m/notification-settings/"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_anonymous_is_sent_to_log_in(client, member, layout):
    notification = _welcome(member)
    pk = notification.pk

    for method, url in (
        ("get", _url(layout, "inbox")),
        ("get", _url(layout, "notification", pk)),
        ("post", _url(layout, "acknowledge", pk)),
        ("post", _url(layout, "read_all")),
        ("get", _url(layout, "preferences")),
        ("post", _url(layout, "preferences")),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(LOGIN), url

    assert not Acknowledgement.objects.exists()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_inbox_lists_only_own_notifications(client, member, other, layout):
    _welcome(member, "Alpha Court")
    _welcome(other, "Beta Gardens")
    client.force_login(member)

    response = client.get(_url(layout, "inbox"))

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="notification-community_welcome"') == 1
    assert "Welcome to Alpha Court" in body
    assert "Beta Gardens" not in body


def test_member_inbox_uses_the_phone_layout_and_dashboard_the_dashboard(client):
    community = CommunityFactory()
    leader = community.leader
    client.force_login(leader)

    member_page = client.get(_url("member", "inbox")).content.decode()
    dashboard_page = client.get(_url("dashboard", "inbox")).content.decode()

    assert 'data-testid="bottom-nav"' in member_page
    assert 'data-testid="bottom-nav"' not in dashboard_page
    # The leader's own approval notice is in both.
    for page in (member_page, dashboard_page):
        assert 'data-testid="notification-leader_approved"' in page


def test_empty_inbox(client, member):
    client.force_login(member)

    response = client.get(_url("member", "inbox"))

    assert 'data-testid="inbox-empty"' in response.content.decode()
    assert _badge(response) is None


@pytest.mark.parametrize("layout", LAYOUTS)
def test_someone_elses_notification_is_not_found(client, member, other, layout):
    notification = _welcome(other)
    client.force_login(member)

    assert client.get(_url(layout, "notification", notification.pk)).status_code == 404
    assert client.post(_url(layout, "acknowledge", notification.pk)).status_code == 404
    assert (
        client.post(
            _url(layout, "acknowledge", notification.pk), headers={"HX-Request": "true"}
        ).status_code
        == 404
    )

    notification.refresh_from_db()
    assert notification.read_at is None
    assert not Acknowledgement.objects.exists()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_opening_a_notification_marks_it_read(client, member, layout):
    notification = _welcome(member, "Alpha Court")
    client.force_login(member)

    response = client.get(_url(layout, "notification", notification.pk))

    assert response.status_code == 200
    assert by_testid(response, "notification-title") == "Welcome to Alpha Court"
    assert "Alpha Court" in by_testid(response, "notification-body")
    assert 'data-testid="acknowledge"' in response.content.decode()
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_notice_text_is_escaped(client, member):
    broadcast = notify(
        recipients=[member],
        kind="community_announcement",
        context={"title": "<b>bold</b>", "body": "<script>alert(1)</script>"},
    )
    notification = broadcast.notifications.get()
    assert notification.body == "<script>alert(1)</script>"  # stored as written
    client.force_login(member)

    for url in (_url("member", "inbox"), _url("member", "notification", notification.pk)):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "<b>bold</b>" not in body
        assert "&lt;b&gt;bold&lt;/b&gt;" in body


def test_unread_badge_counts_down_and_disappears_after_read_all(client, member):
    first = _welcome(member, "One")
    _welcome(member, "Two")
    _welcome(UserFactory(), "Someone else's")
    client.force_login(member)

    inbox = client.get(_url("member", "inbox"))
    assert _badge(inbox) == "2"
    assert inbox.content.decode().count('class="unread"') == 2
    assert 'data-testid="read-all"' in inbox.content.decode()

    detail = client.get(_url("member", "notification", first.pk))
    assert _badge(detail) == "1"
    assert _badge(client.get(_url("dashboard", "inbox"))) == "1"

    response = client.post(_url("member", "read_all"))
    assert response.status_code == 302
    assert response["Location"] == _url("member", "inbox")

    inbox = client.get(_url("member", "inbox"))
    assert _badge(inbox) is None
    assert 'data-testid="read-all"' not in inbox.content.decode()
    assert 'class="unread"' not in inbox.content.decode()


def test_badge_shows_on_other_member_pages(client):
    community = CommunityFactory()
    member = UserFactory()
    from accounts.services import community_join

    community_join(user=member, community=community)  # the welcome notice
    client.force_login(member)

    response = client.get(reverse("accounts:member_home"))

    assert response.status_code == 200
    assert _badge(response) == "1"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_acknowledge_with_htmx_returns_the_partial(client, member, layout):
    notification = _welcome(member)
    client.force_login(member)

    response = client.post(
        _url(layout, "acknowledge", notification.pk), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="acknowledged"' in body
    assert "<html" not in body
    assert 'data-testid="bottom-nav"' not in body
    assert Acknowledgement.objects.filter(notification=notification).count() == 1
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.parametrize("layout", LAYOUTS)
def test_acknowledge_without_htmx_redirects_to_the_notification(client, member, layout):
    notification = _welcome(member)
    client.force_login(member)
    detail_url = _url(layout, "notification", notification.pk)

    response = client.post(_url(layout, "acknowledge", notification.pk))

    assert response.status_code == 302
    assert response["Location"] == detail_url
    page = client.get(detail_url).content.decode()
    assert 'data-testid="acknowledged"' in page
    assert 'data-testid="acknowledge"' not in page


def test_acknowledging_twice_keeps_one_acknowledgement(client, member):
    notification = _welcome(member)
    client.force_login(member)
    url = _url("member", "acknowledge", notification.pk)

    client.post(url, headers={"HX-Request": "true"})
    first = Acknowledgement.objects.get()
    response = client.post(url)

    assert response.status_code == 302
    assert list(Acknowledgement.objects.all()) == [first]
    assert Acknowledgement.objects.get().created_at == first.created_at


def test_acknowledge_needs_post(client, member):
    notification = _welcome(member)
    client.force_login(member)

    response = client.get(_url("member", "acknowledge", notification.pk))

    assert response.status_code == 405
    assert not Acknowledgement.objects.exists()


def test_inbox_marks_acknowledged_notifications(client, member):
    notification = _welcome(member)
    client.force_login(member)
    client.post(_url("member", "acknowledge", notification.pk))

    page = client.get(_url("member", "inbox")).content.decode()

    assert "Acknowledged" in page


# Notification settings


def _checked(response, name) -> bool:
    body = response.content.decode()
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', body)
    assert match, f"no checkbox {name}"
    return "checked" in match.group(0)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_settings_page_shows_the_kinds_defaults(client, member, layout):
    client.force_login(member)

    response = client.get(_url(layout, "preferences"))

    assert response.status_code == 200
    assert 'data-testid="preferences-form"' in response.content.decode()
    for code, kind in KINDS.items():
        assert _checked(response, f"{code}__sms") == (Channel.SMS in kind.default_channels)
        assert _checked(response, f"{code}__email") == (Channel.EMAIL in kind.default_channels)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_saving_settings_changes_what_notify_sends(client, member, layout):
    client.force_login(member)
    # Everything on by default except: no SMS for welcomes, but e-mail for them.
    data = {f"{code}__sms": "on" for code in KINDS if code != "community_welcome"}
    data.update({f"{code}__email": "on" for code in KINDS})

    response = client.post(_url(layout, "preferences"), data)

    assert response.status_code == 302
    assert response["Location"] == _url(layout, "preferences")
    assert NotificationPreference.objects.filter(user=member).count() == len(KINDS)
    welcome = NotificationPreference.objects.get(user=member, kind="community_welcome")
    assert (welcome.sms, welcome.email) == (False, True)
    page = client.get(_url(layout, "preferences"))
    assert not _checked(page, "community_welcome__sms")
    assert _checked(page, "community_welcome__email")

    broadcast = _welcome(member).broadcast
    assert set(Delivery.objects.filter(broadcast=broadcast).values_list("channel", flat=True)) == {
        Channel.EMAIL
    }


def test_turning_everything_off_leaves_the_inbox(client, member):
    client.force_login(member)

    client.post(_url("member", "preferences"), {})

    broadcast = _welcome(member).broadcast
    assert broadcast.recipient_count == 1
    assert not Delivery.objects.filter(broadcast=broadcast).exists()
    assert NotificationPreference.objects.filter(user=member, sms=True).count() == 0


# Query budget


@pytest.mark.parametrize("layout", LAYOUTS)
def test_inbox_queries_do_not_grow_with_rows(client, member, settings, layout):
    settings.PAGINATE_BY = 50
    client.force_login(member)
    url = _url(layout, "inbox")
    marker = 'data-testid="notification-community_welcome"'

    def add(n, acknowledge_every=2):
        for i in range(n):
            notification = _welcome(member, f"C{i}")
            if i % acknowledge_every == 0:
                Acknowledgement.objects.create(notification=notification)

    def measure(expected_rows):
        client.get(url)  # warm up
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.content.decode().count(marker) == expected_rows
        return len(captured)

    add(3)
    few = measure(3)
    add(27)
    many = measure(30)

    assert few == many, f"{few} queries for 3 rows, {many} for 30"
    assert many <= 10

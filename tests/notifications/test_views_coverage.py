"""The leader's side: sending an announcement, following who got and acknowledged it
(counts, filtered lists, CSV), reminding the rest; the robot webhook on the community
edit form. Other leaders get 404, non-leaders 403."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Community
from notifications import services
from notifications.models import (
    Acknowledgement,
    Broadcast,
    Channel,
    Delivery,
    Notification,
)
from notifications.services import notify
from tests.accounts.utils import by_testid, field_errors
from tests.factories import CommunityFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
WEBHOOK = (
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"
)


@pytest.fixture
def members(community):
    """Four members besides the leader, with names that sort in creation order."""
    users = [UserFactory(display_name=f"Member {i}", email=f"m{i}@example.com") for i in range(4)]
    for user in users:
        community.memberships.create(user=user)
    return users


@pytest.fixture
def broadcast(community, leader, members):
    return services.community_announce(
        community=community, actor=leader, title="Water off tomorrow", body="9:00 to 12:00."
    )


def _notification(broadcast, user) -> Notification:
    return broadcast.notifications.get(recipient=user)


def _fail(broadcast, user, channel=Channel.SMS, error="isv.MOBILE_NUMBER_ILLEGAL"):
    delivery = Delivery.objects.get(
        broadcast=broadcast, channel=channel, notification__recipient=user
    )
    delivery.attempts = 1
    delivery.last_error = error
    delivery.mark_failed()
    delivery.save()
    return delivery


def _urls(community_id, broadcast_id):
    return {
        "notices": reverse("notifications:notices", args=[community_id]),
        "coverage": reverse("notifications:coverage", args=[community_id, broadcast_id]),
        "remind": reverse("notifications:remind", args=[community_id, broadcast_id]),
        "export": reverse("notifications:coverage_export", args=[community_id, broadcast_id]),
    }


def _request(client, name, url):
    if name == "remind":
        return client.post(url)
    if name == "notices":
        return client.post(url, {"title": "Hijack", "body": "Not your community."})
    return client.get(url)


def _row_names(response) -> list[str]:
    body = response.content.decode()
    rows = re.findall(r'<tr data-testid="coverage-row">\s*<td>(.*?)</td>', body, flags=re.S)
    return [row.strip() for row in rows]


# Access


def test_another_leader_gets_404_everywhere(client, community, broadcast):
    other_leader = CommunityFactory().leader
    client.force_login(other_leader)
    broadcasts_before = Broadcast.objects.count()

    for name, url in _urls(community.pk, broadcast.pk).items():
        assert client.get(url).status_code in (404, 405), name
        assert _request(client, name, url).status_code == 404, name

    assert Broadcast.objects.count() == broadcasts_before
    broadcast.refresh_from_db()
    assert broadcast.last_reminded_at is None


def test_own_broadcast_under_another_of_own_communities_is_404(client, leader, broadcast):
    second = CommunityFactory(leader=leader)
    client.force_login(leader)

    for name in ("coverage", "remind", "export"):
        url = _urls(second.pk, broadcast.pk)[name]
        assert _request(client, name, url).status_code == 404, name


def test_a_member_who_leads_nothing_gets_403(client, community, members, broadcast):
    client.force_login(members[0])

    for name, url in _urls(community.pk, broadcast.pk).items():
        assert _request(client, name, url).status_code == 403, name

    assert not Broadcast.objects.filter(reminder_of=broadcast).exists()


def test_anonymous_is_sent_to_log_in(client, community, broadcast):
    for name, url in _urls(community.pk, broadcast.pk).items():
        response = _request(client, name, url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(LOGIN), name


def test_a_reminder_has_no_coverage_page_of_its_own(client, leader, community, broadcast):
    reminder = services.broadcast_remind(broadcast=broadcast, actor=leader)
    client.force_login(leader)

    assert client.get(_urls(community.pk, reminder.pk)["coverage"]).status_code == 404


def test_rejected_communitys_leader_has_no_notices_page(client):
    community = CommunityFactory(status="rejected")
    client.force_login(community.leader)

    response = client.get(reverse("notifications:notices", args=[community.pk]))

    assert response.status_code == 403  # not a leader at all


# Counts and lists


def test_leader_sees_counts(client, leader, community, members, broadcast):
    for user in members[:2]:
        services.notification_acknowledge(notification=_notification(broadcast, user))
    _fail(broadcast, members[3])
    sent = Delivery.objects.get(
        broadcast=broadcast, channel=Channel.SMS, notification__recipient=members[2]
    )
    sent.mark_sent()
    sent.save()
    client.force_login(leader)

    response = client.get(_urls(community.pk, broadcast.pk)["coverage"])

    assert response.status_code == 200
    assert by_testid(response, "count-total").strip() == "5"
    assert by_testid(response, "count-acknowledged").strip() == "2"
    assert by_testid(response, "count-unacknowledged").strip() == "3"
    assert by_testid(response, "count-failed").strip() == "1"
    sms = by_testid(response, "channel-sms")
    assert sms.split()[0] == "1"  # reached
    assert "3 waiting" in sms and "1 failed" in sms
    assert 'data-testid="channel-email"' not in response.content.decode()
    assert "isv.MOBILE_NUMBER_ILLEGAL" in response.content.decode()


def test_counts_refresh_with_htmx(client, leader, community, members, broadcast):
    services.notification_acknowledge(notification=_notification(broadcast, members[0]))
    client.force_login(leader)

    response = client.get(
        _urls(community.pk, broadcast.pk)["coverage"] + "?part=counts",
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="coverage-counts"')
    assert by_testid(response, "count-acknowledged").strip() == "1"
    assert 'data-testid="coverage-rows"' not in body


def test_notices_list_shows_the_communitys_notices_with_counts(
    client, leader, community, members, broadcast
):
    services.notification_acknowledge(notification=_notification(broadcast, members[0]))
    services.broadcast_remind(broadcast=broadcast, actor=leader)
    other = CommunityFactory()
    services.community_announce(community=other, actor=other.leader, title="Elsewhere", body="x")
    client.force_login(leader)

    response = client.get(_urls(community.pk, broadcast.pk)["notices"])

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="notice-row"') == 1  # the reminder is not a notice
    assert "Water off tomorrow" in body
    assert "Elsewhere" not in body
    assert by_testid(response, "notice-acknowledged").strip() == "1"


@pytest.mark.parametrize(
    ("show", "expected"),
    [
        ("all", [0, 1, 2, 3]),
        ("acknowledged", [0, 2]),
        ("unacknowledged", [1, 3]),
        ("failed", [3]),
        ("junk", [0, 1, 2, 3]),
    ],
)
def test_filters_list_the_right_recipients(
    client, leader, community, members, broadcast, show, expected
):
    for i in (0, 2):
        services.notification_acknowledge(notification=_notification(broadcast, members[i]))
    services.notification_acknowledge(notification=_notification(broadcast, leader))
    _fail(broadcast, members[3], Channel.SMS)
    # A second failed channel for the same member: listed once under "failed".
    Delivery.objects.create(
        broadcast=broadcast,
        notification=_notification(broadcast, members[3]),
        channel=Channel.EMAIL,
        address=members[3].email,
        next_attempt_at=broadcast.created_at,
    )
    _fail(broadcast, members[3], Channel.EMAIL, "mail server refused")
    client.force_login(leader)

    response = client.get(_urls(community.pk, broadcast.pk)["coverage"], {"show": show})

    names = [n for n in _row_names(response) if n.startswith("Member")]
    assert names == [f"Member {i}" for i in expected]
    leader_listed = str(leader) in _row_names(response)
    assert leader_listed == (show in ("all", "acknowledged", "junk"))
    current = "all" if show == "junk" else show
    assert re.search(
        rf'aria-current="page" data-testid="show-{current}"', response.content.decode()
    )


def test_csv_export(client, leader, community, members, broadcast):
    services.notification_acknowledge(notification=_notification(broadcast, members[1]))
    _fail(broadcast, members[2])
    client.force_login(leader)

    response = client.get(_urls(community.pk, broadcast.pk)["export"])

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="notice-{broadcast.pk}-coverage.csv"' in response["Content-Disposition"]
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["Member", "Phone", "Read", "Acknowledged", "SMS", "E-mail", "Error"]
    body = {row[0]: row for row in rows[1:]}
    assert len(rows) == 1 + 5
    assert set(body) == {str(u) for u in [leader, *members]}
    for user in [leader, *members]:
        row = body[str(user)]
        assert row[1] == "'" + user.masked_phone  # shown as text, not a formula
        assert "****" in row[1]
        assert user.phone not in raw.decode("utf-8-sig")
    assert body["Member 1"][2] and body["Member 1"][3]  # read and acknowledged times
    assert body["Member 0"][3] == ""
    assert body["Member 2"][4] == "Failed"
    assert body["Member 2"][6] == "isv.MOBILE_NUMBER_ILLEGAL"
    assert body["Member 0"][4] == "Queued"
    assert body["Member 0"][5] == ""  # announcements are not e-mailed by default


def test_csv_of_chinese_names_is_utf8(client, leader, community):
    user = UserFactory(display_name="王小明")
    community.memberships.create(user=user)
    broadcast = services.community_announce(
        community=community, actor=leader, title="通知", body="内容"
    )
    client.force_login(leader)

    raw = client.get(_urls(community.pk, broadcast.pk)["export"]).content

    assert "王小明".encode() in raw


def test_csv_cells_are_not_run_as_formulas(client, leader, community):
    sly = UserFactory(display_name='=HYPERLINK("http://evil.example","x")')
    community.memberships.create(user=sly)
    broadcast = services.community_announce(community=community, actor=leader, title="t", body="b")
    _fail(broadcast, sly, error="-1 system busy")
    client.force_login(leader)

    raw = client.get(_urls(community.pk, broadcast.pk)["export"]).content.decode("utf-8-sig")

    row = next(r for r in csv.reader(io.StringIO(raw)) if "HYPERLINK" in r[0])
    assert row[0] == '\'=HYPERLINK("http://evil.example","x")'
    assert row[6] == "'-1 system busy"


# Remind


def test_remind_notifies_only_the_unacknowledged(client, leader, community, members, broadcast):
    for user in (leader, members[0]):
        services.notification_acknowledge(notification=_notification(broadcast, user))
    client.force_login(leader)
    url = _urls(community.pk, broadcast.pk)

    response = client.post(url["remind"], follow=True)

    assert response.redirect_chain == [(url["coverage"], 302)]
    assert "Reminded 3 members" in response.content.decode()
    reminder = Broadcast.objects.get(reminder_of=broadcast)
    assert set(reminder.notifications.values_list("recipient_id", flat=True)) == {
        u.pk for u in members[1:]
    }
    broadcast.refresh_from_db()
    assert broadcast.last_reminded_at is not None


def test_second_remind_within_the_hour_shows_an_error(client, leader, community, broadcast):
    client.force_login(leader)
    url = _urls(community.pk, broadcast.pk)
    client.post(url["remind"])
    notifications_before = Notification.objects.count()

    response = client.post(url["remind"], follow=True)

    assert response.redirect_chain == [(url["coverage"], 302)]
    assert "You can remind again at" in response.content.decode()
    assert Broadcast.objects.filter(reminder_of=broadcast).count() == 1
    assert Notification.objects.count() == notifications_before


def test_remind_when_everyone_acknowledged(client, leader, community, broadcast):
    for notification in broadcast.notifications.all():
        services.notification_acknowledge(notification=notification)
    client.force_login(leader)

    response = client.post(_urls(community.pk, broadcast.pk)["remind"], follow=True)

    assert "Everyone has acknowledged this notice." in response.content.decode()
    assert not Broadcast.objects.filter(reminder_of=broadcast).exists()


# Announcements


def test_empty_announcement_shows_field_errors_and_sends_nothing(
    client, leader, community, members
):
    client.force_login(leader)
    before = (Broadcast.objects.count(), Notification.objects.count(), Delivery.objects.count())

    response = client.post(
        reverse("notifications:notices", args=[community.pk]), {"title": "", "body": ""}
    )

    assert response.status_code == 200
    assert field_errors(response, "title")
    assert field_errors(response, "body")
    assert (
        Broadcast.objects.count(),
        Notification.objects.count(),
        Delivery.objects.count(),
    ) == before


def test_blank_title_is_refused_by_the_service_too(client, leader, community, members):
    client.force_login(leader)

    response = client.post(
        reverse("notifications:notices", args=[community.pk]), {"title": "   ", "body": "text"}
    )

    assert response.status_code == 200
    assert field_errors(response, "title")
    assert not Broadcast.objects.filter(kind="community_announcement").exists()


def test_too_long_title_is_refused(client, leader, community):
    client.force_login(leader)

    response = client.post(
        reverse("notifications:notices", args=[community.pk]), {"title": "x" * 101, "body": "text"}
    )

    assert field_errors(response, "title")
    assert not Broadcast.objects.filter(kind="community_announcement").exists()


def test_announcement_reaches_every_member(
    client, leader, community, members, django_capture_on_commit_callbacks
):
    community.wechat_robot_webhook = WEBHOOK
    community.save(update_fields=["wechat_robot_webhook"])
    outsider = UserFactory()
    client.force_login(leader)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("notifications:notices", args=[community.pk]),
            {"title": "Pick-up moved", "body": "Today at the north gate."},
        )

    broadcast = Broadcast.objects.get(kind="community_announcement")
    assert response.status_code == 302
    assert response["Location"] == _urls(community.pk, broadcast.pk)["coverage"]
    assert broadcast.sender == leader
    assert broadcast.community == community
    assert broadcast.recipient_count == 5
    recipients = set(broadcast.notifications.values_list("recipient_id", flat=True))
    assert recipients == {u.pk for u in [leader, *members]}
    assert outsider.pk not in recipients
    notification = broadcast.notifications.get(recipient=members[0])
    assert (notification.title, notification.body) == ("Pick-up moved", "Today at the north gate.")
    assert notification.link == reverse("notifications:member_inbox")
    channels = list(Delivery.objects.filter(broadcast=broadcast).values_list("channel", flat=True))
    assert sorted(channels) == sorted([Channel.SMS] * 5 + [Channel.WECHAT_ROBOT])
    assert len(callbacks) == 1

    page = client.get(response["Location"])
    assert "Announcement sent to 5 members." in page.content.decode()
    assert by_testid(page, "count-total").strip() == "5"


def test_notices_page_shows_the_form(client, leader, community):
    client.force_login(leader)

    response = client.get(reverse("notifications:notices", args=[community.pk]))

    assert response.status_code == 200
    assert 'data-testid="announcement-form"' in response.content.decode()


# Community edit form: the robot webhook


def _community_data(community, **overrides):
    data = {
        "name": community.name,
        "area": community.area,
        "contact_phone": community.contact_phone,
        "description": community.description,
        "wechat_robot_webhook": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=",
        "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=abc",
        "https://oapi.dingtalk.com/robot/send?access_token=abc",
        "not a url",
    ],
)
def test_community_edit_refuses_other_webhooks(client, leader, community, url):
    client.force_login(leader)

    response = client.post(
        reverse("accounts:community_edit", args=[community.pk]),
        _community_data(community, name="Renamed", wechat_robot_webhook=url),
    )

    assert response.status_code == 200
    assert field_errors(response, "wechat_robot_webhook")
    stored = Community.objects.get(pk=community.pk)
    assert stored.wechat_robot_webhook == ""
    assert stored.name == community.name


def test_community_edit_saves_a_wechat_work_webhook(client, leader, community):
    client.force_login(leader)
    url = reverse("accounts:community_edit", args=[community.pk])

    response = client.post(url, _community_data(community, wechat_robot_webhook=f"  {WEBHOOK} "))

    assert response.status_code == 302
    assert Community.objects.get(pk=community.pk).wechat_robot_webhook == WEBHOOK
    assert WEBHOOK in client.get(url).content.decode()

    client.post(url, _community_data(community, wechat_robot_webhook=""))
    assert Community.objects.get(pk=community.pk).wechat_robot_webhook == ""


# Query budgets


def _measure(client, url, marker, expected_rows):
    assert client.get(url).status_code == 200  # warm up
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count(marker) == expected_rows
    return len(captured)


@pytest.fixture
def one_page(settings):
    settings.PAGINATE_BY = 50


def test_notices_list_queries_do_not_grow(client, leader, community, members, one_page):
    client.force_login(leader)
    url = reverse("notifications:notices", args=[community.pk])

    def add(n):
        for i in range(n):
            sent = services.community_announce(
                community=community, actor=leader, title=f"N{i}", body="b"
            )
            services.notification_acknowledge(notification=_notification(sent, members[0]))
            _fail(sent, members[1])

    add(3)
    few = _measure(client, url, 'data-testid="notice-row"', 3)
    add(27)
    many = _measure(client, url, 'data-testid="notice-row"', 30)

    assert few == many, f"{few} queries for 3 rows, {many} for 30"
    assert many <= 12


@pytest.mark.parametrize("show", ["all", "failed"])
def test_coverage_queries_do_not_grow(client, leader, community, one_page, show):
    client.force_login(leader)

    def coverage_of(n):
        users = UserFactory.create_batch(n, email=None)
        for user in users:
            user.email = f"u{user.pk}@example.com"
            user.save(update_fields=["email"])
        sent = notify(
            recipients=users,
            kind="community_announcement",
            community=community,
            sender=leader,
            context={"title": f"{n} rows", "body": "b"},
        )
        for user in users:
            _fail(sent, user)
        for user in users[::2]:
            services.notification_acknowledge(notification=_notification(sent, user))
        return reverse("notifications:coverage", args=[community.pk, sent.pk]) + f"?show={show}"

    few = _measure(client, coverage_of(3), 'data-testid="coverage-row"', 3)
    many = _measure(client, coverage_of(30), 'data-testid="coverage-row"', 30)

    assert few == many, f"{few} queries for 3 rows, {many} for 30"
    assert many <= 12


def test_export_queries_do_not_grow(client, leader, community):
    client.force_login(leader)

    def export_of(n):
        users = UserFactory.create_batch(n)
        sent = notify(
            recipients=users,
            kind="community_announcement",
            community=community,
            context={"title": "t", "body": "b"},
        )
        for user in users[::2]:
            services.notification_acknowledge(notification=_notification(sent, user))
        return reverse("notifications:coverage_export", args=[community.pk, sent.pk])

    def measure(url, n):
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.content.decode("utf-8-sig").count("\n") == n + 1
        return len(captured)

    assert measure(export_of(3), 3) == measure(export_of(30), 30)


def test_acknowledgement_rows_are_counted_once(client, leader, community, members, broadcast):
    # A reminder acknowledged counts once for the original notice.
    reminder = services.broadcast_remind(broadcast=broadcast, actor=leader)
    services.notification_acknowledge(notification=_notification(reminder, members[0]))
    client.force_login(leader)

    response = client.get(_urls(community.pk, broadcast.pk)["coverage"])

    assert by_testid(response, "count-acknowledged").strip() == "1"
    assert Acknowledgement.objects.count() == 2

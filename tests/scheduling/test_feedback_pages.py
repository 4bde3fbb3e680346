"""The leader's feedback page: likes and comments per item, schedule comments, wishes,
replies that members then see; scoped to the leader's own community."""

from urllib.parse import quote

import pytest
from django.urls import reverse

from scheduling.models import Comment, Wish
from scheduling.services import feedback
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.scheduling.test_member_pages import make_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def members(community):
    users = [UserFactory(), UserFactory()]
    for user in users:
        MembershipFactory(user=user, community=community)
    return users


@pytest.fixture
def schedule(community, leader, listed_offer):
    return make_schedule(community, leader, listed_offer)


def feedback_url(community):
    return reverse("scheduling:leader_feedback", args=[community.pk])


def test_feedback_grouped_per_item_and_wishes_listed(client, community, leader, schedule, members):
    item = schedule.items.get()
    for user in members:
        feedback.item_like_toggle(item=item, user=user)
    feedback.comment_add(schedule=schedule, author=members[0], body="甜不甜", item=item)
    feedback.comment_add(schedule=schedule, author=members[1], body="几点到货")
    feedback.wish_add(community=community, author=members[0], text="云南蓝莓 125g")
    client.force_login(leader)
    response = client.get(feedback_url(community))
    assert response.status_code == 200
    html = response.content.decode()
    row = html.split('data-testid="feedback-item"')[1].split("</tr>")[0]
    assert 'data-testid="feedback-like-count">2<' in row
    assert "甜不甜" in row and "几点到货" not in row
    schedule_part = html.split('data-testid="feedback-schedule-comments"')[1]
    assert "几点到货" in schedule_part.split('data-testid="feedback-wishes"')[0]
    wishes = html.split('data-testid="feedback-wishes"')[1]
    assert "云南蓝莓 125g" in wishes
    search = reverse("catalog:leader_catalog") + "?q=" + quote("云南蓝莓 125g")
    assert f'href="{search}"' in wishes
    assert html.count('data-testid="reply-form"') == 3
    assert 'data-testid="nav-feedback"' in html


def test_feedback_page_without_schedules(client, community, leader):
    client.force_login(leader)
    response = client.get(feedback_url(community))
    assert response.status_code == 200
    assert b'data-testid="feedback-wishes"' in response.content


def test_draft_schedules_have_no_feedback_tab(client, community, leader, listed_offer):
    make_schedule(community, leader, listed_offer, publish=False, title="草稿团")
    client.force_login(leader)
    assert "草稿团" not in client.get(feedback_url(community)).content.decode()


def test_schedule_tab_selects_schedule(client, community, leader, listed_offer, members):
    first = make_schedule(community, leader, listed_offer, title="第一团")
    second = make_schedule(community, leader, listed_offer, title="第二团")
    feedback.comment_add(schedule=first, author=members[0], body="第一团的评论")
    client.force_login(leader)
    html = client.get(feedback_url(community) + f"?schedule={first.pk}").content.decode()
    assert "第一团的评论" in html
    html = client.get(feedback_url(community) + f"?schedule={second.pk}").content.decode()
    assert "第一团的评论" not in html


def test_comment_reply_saved_and_shown_to_member(client, community, leader, schedule, members):
    comment = feedback.comment_add(
        schedule=schedule, author=members[0], body="新鲜吗", item=schedule.items.get()
    )
    client.force_login(leader)
    url = reverse("scheduling:leader_comment_reply", args=[community.pk, comment.pk])
    response = client.post(url, {"reply": "今早刚到"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"?schedule={schedule.pk}#comment-{comment.pk}")
    comment.refresh_from_db()
    assert comment.reply == "今早刚到" and comment.replied_at
    client.force_login(members[0])
    html = client.get(reverse("scheduling:member_schedule", args=[schedule.pk])).content.decode()
    assert "今早刚到" in html


def test_empty_reply_shows_error_in_place(client, community, leader, schedule, members):
    comment = feedback.comment_add(schedule=schedule, author=members[0], body="新鲜吗")
    client.force_login(leader)
    url = reverse("scheduling:leader_comment_reply", args=[community.pk, comment.pk])
    response = client.post(url, {"reply": "  "})
    assert response.status_code == 200
    html = response.content.decode()
    block = html.split(f'id="comment-{comment.pk}"')[1]
    assert 'data-testid="error-reply"' in block
    assert Comment.objects.get().reply == ""


def test_wish_reply_saved_and_shown_to_member(client, community, leader, members):
    wish = feedback.wish_add(community=community, author=members[0], text="想要土鸡蛋")
    client.force_login(leader)
    url = reverse("scheduling:leader_wish_reply", args=[community.pk, wish.pk])
    assert client.post(url, {"reply": "已经在找货源"}).status_code == 302
    assert Wish.objects.get().reply == "已经在找货源"
    response = client.post(url, {"reply": ""})
    assert response.status_code == 200
    assert b'data-testid="error-reply"' in response.content
    client.force_login(members[0])
    html = client.get(reverse("scheduling:member_wish_add")).content.decode()
    assert "已经在找货源" in html


def test_other_leader_gets_404(client, community, schedule, members):
    comment = feedback.comment_add(schedule=schedule, author=members[0], body="新鲜吗")
    wish = feedback.wish_add(community=community, author=members[0], text="想要土鸡蛋")
    other = CommunityFactory()
    client.force_login(other.leader)
    assert client.get(feedback_url(community)).status_code == 404
    reply = reverse("scheduling:leader_comment_reply", args=[community.pk, comment.pk])
    assert client.post(reply, {"reply": "x"}).status_code == 404
    # Through her own community's URL, another community's comment or wish is still 404.
    reply = reverse("scheduling:leader_comment_reply", args=[other.pk, comment.pk])
    assert client.post(reply, {"reply": "x"}).status_code == 404
    reply = reverse("scheduling:leader_wish_reply", args=[other.pk, wish.pk])
    assert client.post(reply, {"reply": "x"}).status_code == 404
    assert Comment.objects.get().reply == "" and Wish.objects.get().reply == ""


def test_member_gets_403(client, community, members):
    client.force_login(members[0])
    assert client.get(feedback_url(community)).status_code == 403

"""Member pages: the community's schedules, one schedule's item cards, likes, comments,
wishes; scoped to the member's communities and to visible schedules."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Offer, OfferStatus, Product, ProductImage
from scheduling.models import Comment, ItemLike, Schedule, ScheduleItem, Wish
from scheduling.services import feedback, schedules
from tests.accounts.utils import by_testid
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.scheduling.conftest import item_fields, timeline

pytestmark = pytest.mark.django_db


# Helpers shared with the share and feedback tests.


def make_schedule(community, leader, offer, *, publish=True, title="周末水果团", **item):
    schedule = schedules.schedule_create(
        community=community,
        actor=leader,
        pickup_points=community.pickup_points.all(),
        title=title,
        notes="请按时自提",
        **timeline(),
    )
    schedules.schedule_item_add(schedule=schedule, actor=leader, offer=offer, **item_fields(**item))
    if publish:
        schedules.schedule_publish(schedule=schedule, actor=leader)
    return Schedule.objects.get(pk=schedule.pk)


def add_bulk_items(schedule, supplier, category, count, *, start=0, images=True, likers=()):
    """``count`` more items (with product, offer, image, likes, a comment) in a few
    bulk inserts, as the benchmark builds its catalogue."""
    today = timezone.localdate()
    products = Product.objects.bulk_create(
        Product(
            supplier=supplier,
            name=f"商品{n}",
            spec="500 g",
            unit="份",
            category=category,
            origin="云南",
            storage="chilled",
            shelf_life_days=7,
        )
        for n in range(start, start + count)
    )
    offers = Offer.objects.bulk_create(
        Offer(
            supplier=supplier,
            product=product,
            supply_price=Decimal("10.00"),
            retail_price=Decimal("15.00"),
            min_order_qty=1,
            case_size=1,
            daily_capacity=100,
            lead_time_days=1,
            delivery_weekdays="0123456",
            valid_from=today,
            valid_until=today + timedelta(days=30),
            status=OfferStatus.APPROVED,
            decided_at=timezone.now(),
        )
        for product in products
    )
    if images:
        ProductImage.objects.bulk_create(
            ProductImage(
                product=product, image=f"products/p{n}.jpg", thumbnail=f"products/t{n}.jpg"
            )
            for n, product in enumerate(products)
        )
    items = ScheduleItem.objects.bulk_create(
        ScheduleItem(
            schedule=schedule,
            offer=offer,
            supply_price=Decimal("10.00"),
            member_price=Decimal("15.00"),
            quantity_cap=50,
            per_member_limit=5,
            min_group_qty=10,
            reserved_qty=3,
            display_order=start + n + 1,
        )
        for n, offer in enumerate(offers)
    )
    ItemLike.objects.bulk_create(ItemLike(item=item, user=u) for item in items for u in likers)
    if likers:
        Comment.objects.bulk_create(
            Comment(schedule=schedule, item=item, author=likers[0], body="好吃吗") for item in items
        )
    return items


@pytest.fixture
def schedule(community, leader, listed_offer):
    return make_schedule(community, leader, listed_offer, min_group_qty=20)


@pytest.fixture
def member_client(client, community):
    user = UserFactory()
    MembershipFactory(user=user, community=community)
    client.force_login(user)
    client.user = user
    return client


def schedule_url(schedule):
    return reverse("scheduling:member_schedule", args=[schedule.pk])


# The list of schedules


def test_schedules_list_shows_own_community_open_and_recently_closed(
    member_client, community, leader, listed_offer, schedule
):
    closed = make_schedule(community, leader, listed_offer, title="上周蔬菜团")
    assert schedules.schedule_close(schedule_id=closed.pk, now=closed.cutoff + timedelta(minutes=1))
    now = timezone.now()
    Schedule.objects.filter(pk=closed.pk).update(
        sale_start=now - timedelta(days=2), cutoff=now - timedelta(hours=1)
    )
    draft = make_schedule(community, leader, listed_offer, publish=False, title="草稿团")
    other = CommunityFactory()
    response = member_client.get(reverse("scheduling:member_schedules"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="schedule-card"') == 2
    open_part = html.split('data-testid="open-schedules"')[1].split("recent-schedules")[0]
    assert "周末水果团" in open_part
    assert "上周蔬菜团" in html.split('data-testid="recent-schedules"')[1]
    assert draft.title not in html
    assert other.name not in html
    assert 'data-testid="countdown"' in open_part
    assert 'data-testid="nav-schedules"' in html


def test_schedules_list_without_community(client):
    client.force_login(UserFactory())
    response = client.get(reverse("scheduling:member_schedules"))
    assert response.status_code == 200
    assert b'data-testid="no-community"' in response.content


def test_anonymous_is_sent_to_log_in(client, schedule):
    response = client.get(schedule_url(schedule))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


# One schedule


def test_schedule_page_shows_items_with_numbers(member_client, schedule):
    item = schedule.items.get()
    ScheduleItem.objects.filter(pk=item.pk).update(reserved_qty=12)
    response = member_client.get(schedule_url(schedule))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="item-card"') == 1
    assert "阳光玫瑰葡萄" in html or "Shine Muscat" in html
    assert "¥15.00" in html
    assert "48 left" in html  # cap 60 - reserved 12
    assert f'<progress id="progress-{item.pk}" max="20" value="12">' in html
    assert "Limit 5 per member" in html
    cutoff_iso = timezone.localtime(schedule.cutoff).isoformat()
    assert f'data-countdown="{cutoff_iso}"' in html
    assert f'datetime="{cutoff_iso}"' in html
    assert 'data-testid="countdown"' in html
    assert "setInterval" in html
    assert "1 号楼大堂" in html  # pickup point
    assert "请按时自提" in html  # notes
    assert html.count('data-testid="comment-form"') == 2  # the item and the schedule


def test_progress_hidden_without_minimum(member_client, community, leader, listed_offer):
    schedule = make_schedule(community, leader, listed_offer, min_group_qty=0)
    html = member_client.get(schedule_url(schedule)).content.decode()
    assert 'data-testid="item-progress"' not in html
    assert "<progress" not in html


def test_progress_caps_at_minimum(member_client, schedule):
    ScheduleItem.objects.filter(schedule=schedule).update(reserved_qty=30)
    html = member_client.get(schedule_url(schedule)).content.decode()
    assert 'max="20" value="20"' in html
    assert "30 left" in html


def test_item_image_thumbnail_with_alt(member_client, schedule):
    product = schedule.items.get().offer.product
    ProductImage.objects.create(
        product=product, image="products/a.jpg", thumbnail="products/t/a.jpg"
    )
    html = member_client.get(schedule_url(schedule)).content.decode()
    assert 'src="/media/products/t/a.jpg"' in html
    assert f'alt="{product.localized_name}"' in html


@pytest.mark.parametrize("state", ["draft", "cancelled"])
def test_hidden_states_answer_404(member_client, community, leader, listed_offer, state):
    schedule = make_schedule(community, leader, listed_offer, publish=state != "draft")
    if state == "cancelled":
        schedules.schedule_cancel(schedule=schedule, actor=leader, reason="缺货")
    assert member_client.get(schedule_url(schedule)).status_code == 404


def test_closed_and_completed_stay_visible(member_client, schedule, leader):
    assert schedules.schedule_close(
        schedule_id=schedule.pk, now=schedule.cutoff + timedelta(minutes=1)
    )
    response = member_client.get(schedule_url(schedule))
    assert response.status_code == 200
    assert b'data-testid="schedule-closed"' in response.content
    schedules.schedule_complete(schedule=Schedule.objects.get(pk=schedule.pk), actor=leader)
    assert member_client.get(schedule_url(schedule)).status_code == 200


def test_other_community_answers_404(client, schedule):
    outsider = UserFactory()
    MembershipFactory(user=outsider, community=CommunityFactory())
    client.force_login(outsider)
    assert client.get(schedule_url(schedule)).status_code == 404


# Likes


def test_like_toggles_on_and_off_with_htmx(member_client, schedule):
    item = schedule.items.get()
    url = reverse("scheduling:member_item_like", args=[item.pk])
    response = member_client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="like-count">1<' in html
    assert 'aria-pressed="true"' in html
    assert ItemLike.objects.filter(item=item, user=member_client.user).count() == 1
    response = member_client.post(url, HTTP_HX_REQUEST="true")
    assert 'data-testid="like-count">0<' in response.content.decode()
    assert not ItemLike.objects.filter(item=item).exists()


def test_like_without_htmx_redirects_to_the_item(member_client, schedule):
    item = schedule.items.get()
    response = member_client.post(reverse("scheduling:member_item_like", args=[item.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"{schedule_url(schedule)}#item-{item.pk}"
    html = member_client.get(schedule_url(schedule)).content.decode()
    assert 'data-testid="like-count">1<' in html


def test_double_like_is_safe(member_client, schedule):
    item = schedule.items.get()
    # A like already there (a double tap that raced): the toggle takes it back cleanly,
    # and the service's own IntegrityError guard keeps a racing insert harmless.
    feedback.item_like_toggle(item=item, user=member_client.user)
    feedback.item_like_toggle(item=item, user=member_client.user)
    feedback.item_like_toggle(item=item, user=member_client.user)
    assert ItemLike.objects.filter(item=item).count() == 1


def test_like_by_non_member_refused(client, schedule):
    item = schedule.items.get()
    client.force_login(UserFactory())
    url = reverse("scheduling:member_item_like", args=[item.pk])
    assert client.post(url).status_code == 404
    assert client.get(url).status_code in (404, 405)
    assert not ItemLike.objects.exists()


# Comments


def test_comment_on_item_and_schedule(member_client, schedule):
    item = schedule.items.get()
    url = reverse("scheduling:member_comment_add", args=[schedule.pk])
    response = member_client.post(url, {"body": "甜不甜？", "item": item.pk})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#item-{item.pk}")
    response = member_client.post(url, {"body": "几点到货？"})
    assert response["Location"].endswith("#comments")
    assert Comment.objects.get(item=item).body == "甜不甜？"
    assert Comment.objects.get(item=None).schedule == schedule
    html = member_client.get(schedule_url(schedule)).content.decode()
    assert "甜不甜？" in html and "几点到货？" in html


def test_empty_comment_shows_error_in_place(member_client, schedule):
    item = schedule.items.get()
    url = reverse("scheduling:member_comment_add", args=[schedule.pk])
    response = member_client.post(url, {"body": "   ", "item": item.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="error-body"') == 1
    item_card = html.split(f'id="item-{item.pk}"')[1].split('aria-labelledby="comments-heading"')[0]
    assert 'data-testid="error-body"' in item_card
    assert not Comment.objects.exists()
    response = member_client.post(url, {"body": ""})
    html = response.content.decode()
    assert 'data-testid="error-body"' in html.split('aria-labelledby="comments-heading"')[1]


def test_comment_on_item_of_another_schedule_is_404(
    member_client, community, leader, listed_offer, schedule
):
    other = make_schedule(community, leader, listed_offer, title="另一个团")
    url = reverse("scheduling:member_comment_add", args=[schedule.pk])
    response = member_client.post(url, {"body": "hi", "item": other.items.get().pk})
    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_comment_by_outsider_is_404(client, schedule):
    client.force_login(UserFactory())
    url = reverse("scheduling:member_comment_add", args=[schedule.pk])
    assert client.post(url, {"body": "hi"}).status_code == 404


def test_leader_reply_shown_to_member(member_client, schedule, leader):
    comment = feedback.comment_add(
        schedule=schedule, author=member_client.user, body="新鲜吗", item=schedule.items.get()
    )
    feedback.comment_reply(comment=comment, actor=leader, reply="今早刚摘")
    html = member_client.get(schedule_url(schedule)).content.decode()
    assert 'data-testid="comment-reply"' in html and "今早刚摘" in html


# Wishes


def test_wish_add_and_list_with_reply(member_client, community, leader):
    url = reverse("scheduling:member_wish_add")
    response = member_client.post(url, {"text": "想要云南蓝莓"})
    assert response.status_code == 302
    wish = Wish.objects.get()
    assert wish.community == community and wish.author == member_client.user
    feedback.wish_reply(wish=wish, actor=leader, reply="下周安排")
    html = member_client.get(url).content.decode()
    assert "想要云南蓝莓" in html
    assert 'data-testid="wish-reply"' in html and "下周安排" in html


def test_empty_wish_shows_error(member_client):
    response = member_client.post(reverse("scheduling:member_wish_add"), {"text": " "})
    assert response.status_code == 200
    assert b'data-testid="error-text"' in response.content
    assert not Wish.objects.exists()


def test_wishes_are_own_only(member_client, community):
    other = UserFactory()
    MembershipFactory(user=other, community=community)
    feedback.wish_add(community=community, author=other, text="别人的愿望")
    html = member_client.get(reverse("scheduling:member_wish_add")).content.decode()
    assert "别人的愿望" not in html


# Query budget


def test_schedule_page_queries_do_not_grow_with_items(member_client, schedule, listed_offer):
    url = schedule_url(schedule)
    users = [member_client.user, UserFactory()]
    supplier, category = listed_offer.supplier, listed_offer.product.category
    add_bulk_items(schedule, supplier, category, 2, likers=users)
    member_client.get(url)  # warm up
    with CaptureQueriesContext(connection) as small:
        response = member_client.get(url)
    assert response.content.decode().count('data-testid="item-card"') == 3
    add_bulk_items(schedule, supplier, category, 197, start=2, likers=users)
    with CaptureQueriesContext(connection) as large:
        response = member_client.get(url)
    html = response.content.decode()
    assert html.count('data-testid="item-card"') == 200
    assert html.count('data-testid="like-count">2<') == 199
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    assert len(large) <= 20


def test_schedule_page_states_the_shortage_rule_and_after_sales_window(member_client, schedule):
    Schedule.objects.filter(pk=schedule.pk).update(
        shortage_rule="proportional", after_sales_hours=24
    )
    rule = by_testid(member_client.get(schedule_url(schedule)), "shortage-rule")
    assert "Shared in proportion to the quantities ordered" in rule
    assert "24 hours" in rule

"""Reads behind the member schedule pages, the public share page and the leader's
feedback page. Every read is scoped: a member sees her communities' visible schedules,
a leader her own community, an anonymous visitor only a shared, visible schedule.

Item lists are built with a fixed number of queries whatever the number of items
(items with product and like counts, then images, comments and pickup points in one
query each), so the member page with 200 items costs the same as with 3.
"""

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Community, ReviewStatus, User
from catalog.models import ProductImage

from ..models import Comment, ItemLike, Schedule, ScheduleItem, ScheduleStatus, Wish

# Statuses a member (or the share page) may see; drafts and cancelled rounds are hidden.
VISIBLE = (ScheduleStatus.PUBLISHED, ScheduleStatus.CLOSED, ScheduleStatus.COMPLETED)
# How far back the member list shows rounds that have closed.
RECENT_DAYS = 14
RECENT_LIMIT = 10


def _visible_schedules() -> QuerySet[Schedule]:
    return Schedule.objects.filter(
        status__in=VISIBLE, community__status=ReviewStatus.APPROVED
    ).select_related("community")


# Members


def member_schedule_lists(
    community: Community, *, now=None
) -> tuple[list[Schedule], list[Schedule]]:
    """(open, recently closed) schedules of a community, each with ``item_count``.

    Open: published and before the cut-off, soonest cut-off first. Recently closed: any
    visible schedule whose cut-off passed in the last two weeks, latest first.
    """
    now = now or timezone.now()
    base = Schedule.objects.filter(community=community, status__in=VISIBLE).annotate(
        item_count=Count("items")
    )
    open_ = list(base.filter(status=ScheduleStatus.PUBLISHED, cutoff__gt=now).order_by("cutoff"))
    recent = list(
        base.filter(cutoff__lte=now, cutoff__gte=now - timedelta(days=RECENT_DAYS)).order_by(
            "-cutoff", "-id"
        )[:RECENT_LIMIT]
    )
    return open_, recent


def schedule_for_member(user: User, schedule_id: int) -> Schedule:
    """A visible schedule of a community the user belongs to, or 404."""
    return get_object_or_404(
        _visible_schedules().filter(community__memberships__user=user), pk=schedule_id
    )


def item_for_member(user: User, item_id: int) -> ScheduleItem:
    return get_object_or_404(
        ScheduleItem.objects.select_related("schedule").filter(
            schedule__status__in=VISIBLE,
            schedule__community__status=ReviewStatus.APPROVED,
            schedule__community__memberships__user=user,
        ),
        pk=item_id,
    )


def item_like_state(item: ScheduleItem, user: User) -> tuple[int, bool]:
    """(number of likes, whether the user likes it)."""
    likes = list(ItemLike.objects.filter(item=item).values_list("user_id", flat=True))
    return len(likes), user.pk in likes


def _items(schedule: Schedule, *, user: User | None = None) -> list[ScheduleItem]:
    items = (
        schedule.items.select_related("offer__product")
        .prefetch_related(
            Prefetch(
                "offer__product__images",
                queryset=ProductImage.objects.order_by("position", "id"),
            )
        )
        .annotate(like_count=Count("likes", distinct=True))
    )
    if user is not None:
        items = items.annotate(
            liked=Exists(ItemLike.objects.filter(item=OuterRef("pk"), user=user))
        )
    items = list(items)
    for item in items:
        images = item.offer.product.images.all()
        item.first_image = images[0] if images else None
        item.product = item.offer.product
        item.progress = min(item.reserved_qty, item.min_group_qty)
    return items


def _attach_comments(schedule: Schedule, items: list[ScheduleItem]) -> list[Comment]:
    """Give each item its ``comment_list``; return the schedule-level comments."""
    by_item = defaultdict(list)
    for comment in schedule.comments.select_related("author"):
        by_item[comment.item_id].append(comment)
    for item in items:
        item.comment_list = by_item.get(item.pk, [])
    return by_item.get(None, [])


def schedule_page_for_member(schedule: Schedule, user: User) -> dict:
    """Everything the member schedule page shows, in a fixed number of queries."""
    items = _items(schedule, user=user)
    schedule_comments = _attach_comments(schedule, items)
    return {
        "items": items,
        "schedule_comments": schedule_comments,
        "pickup_points": list(schedule.pickup_points.order_by("id")),
    }


def wishes_for_member(user: User, community: Community) -> QuerySet[Wish]:
    return Wish.objects.filter(author=user, community=community)


# Anyone with the share link


def schedule_by_share_token(token: str) -> Schedule:
    return get_object_or_404(_visible_schedules(), share_token=token)


def share_page_data(schedule: Schedule) -> dict:
    return {
        "items": _items(schedule),
        "pickup_points": list(schedule.pickup_points.order_by("id")),
    }


# Leaders: feedback on their community's schedules


def feedback_schedules(community: Community) -> QuerySet[Schedule]:
    """Visible schedules of the community with their feedback counts, latest first."""
    return (
        Schedule.objects.filter(community=community, status__in=VISIBLE)
        .annotate(
            comment_count=Count("comments", distinct=True),
            unanswered_count=Count("comments", filter=Q(comments__reply=""), distinct=True),
        )
        .order_by("-cutoff", "-id")
    )


def feedback_for_schedule(schedule: Schedule) -> dict:
    items = _items(schedule)
    schedule_comments = _attach_comments(schedule, items)
    return {"items": items, "schedule_comments": schedule_comments}


def wishes_for_leader(community: Community) -> QuerySet[Wish]:
    return community.wishes.select_related("author")


def comment_for_leader(community: Community, comment_id: int) -> Comment:
    return get_object_or_404(
        Comment.objects.select_related("schedule"),
        schedule__community=community,
        pk=comment_id,
    )


def wish_for_leader(community: Community, wish_id: int) -> Wish:
    return get_object_or_404(Wish, community=community, pk=wish_id)

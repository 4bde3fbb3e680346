"""Members' feedback on schedules: comments, likes, wishes; the leader's replies."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Community, Membership, User
from groupbuy.exceptions import DomainError

from ..models import Comment, ItemLike, Schedule, ScheduleItem, ScheduleStatus, Wish

VISIBLE = (ScheduleStatus.PUBLISHED, ScheduleStatus.CLOSED, ScheduleStatus.COMPLETED)


def _require_member(user: User, community_id: int) -> None:
    if not Membership.objects.filter(user=user, community_id=community_id).exists():
        raise DomainError(_("Join the community first."))


def comment_add(
    *, schedule: Schedule, author: User, body: str, item: ScheduleItem | None = None
) -> Comment:
    body = body.strip()
    if not body:
        raise DomainError(_("Write something first."), field="body")
    if schedule.status not in VISIBLE:
        raise DomainError(_("This schedule is not open for comments."))
    if item is not None and item.schedule_id != schedule.pk:
        raise DomainError(_("This item is not in the schedule."))
    _require_member(author, schedule.community_id)
    return Comment.objects.create(schedule=schedule, item=item, author=author, body=body)


def _reply(feedback, reply: str):
    reply = reply.strip()
    if not reply:
        raise DomainError(_("Write a reply first."), field="reply")
    feedback.reply = reply
    feedback.replied_at = timezone.now()
    feedback.save(update_fields=["reply", "replied_at", "updated_at"])
    return feedback


def comment_reply(*, comment: Comment, actor: User, reply: str) -> Comment:
    return _reply(comment, reply)


def item_like_toggle(*, item: ScheduleItem, user: User) -> bool:
    """Like an item, or take the like back; returns whether the user now likes it."""
    _require_member(user, item.schedule.community_id)
    deleted, _rows = ItemLike.objects.filter(item=item, user=user).delete()
    if deleted:
        return False
    try:
        with transaction.atomic():
            ItemLike.objects.create(item=item, user=user)
    except IntegrityError:
        pass  # a double tap already liked it
    return True


def wish_add(*, community: Community, author: User, text: str) -> Wish:
    text = text.strip()
    if not text:
        raise DomainError(_("Tell your leader what you would like."), field="text")
    _require_member(author, community.pk)
    return Wish.objects.create(community=community, author=author, text=text)


def wish_reply(*, wish: Wish, actor: User, reply: str) -> Wish:
    return _reply(wish, reply)

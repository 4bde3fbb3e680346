"""Reserving and releasing schedule-item stock (the item's quantity cap).

One conditional UPDATE per item (``reserved + qty <= cap``), rows touched in primary-key
order so two orders of the same items in opposite order cannot deadlock; the item's
CheckConstraint is the backstop.
"""

from django.db.models import F
from django.utils.translation import gettext as _

from groupbuy.exceptions import DomainError
from scheduling.models import ScheduleItem


def stock_reserve(*, quantities: dict[int, int]) -> None:
    """Reserve every quantity or raise one DomainError naming every short item.

    Call inside the caller's transaction: an error leaves earlier updates to its rollback.
    """
    short = []
    for item_id in sorted(quantities):
        quantity = quantities[item_id]
        updated = ScheduleItem.objects.filter(
            pk=item_id, reserved_qty__lte=F("quantity_cap") - quantity
        ).update(reserved_qty=F("reserved_qty") + quantity)
        if not updated:
            short.append(item_id)
    if short:
        raise DomainError(_short_message(short), field="quantities")


def _short_message(item_ids: list[int]) -> str:
    parts = []
    items = ScheduleItem.objects.filter(pk__in=item_ids).select_related("offer__product")
    for item in sorted(items, key=lambda item: item.pk):
        name = item.offer.product.localized_name
        if item.remaining <= 0:
            parts.append(_("%(name)s is sold out") % {"name": name})
        else:
            parts.append(
                _("only %(left)s of %(name)s left") % {"left": item.remaining, "name": name}
            )
    return _("Not enough stock: %(items)s.") % {"items": "; ".join(parts)}


def stock_release(*, quantities: dict[int, int]) -> None:
    for item_id in sorted(quantities):
        if quantities[item_id] > 0:
            ScheduleItem.objects.filter(pk=item_id).update(
                reserved_qty=F("reserved_qty") - quantities[item_id]
            )

from django.utils.translation import gettext_lazy as _

from notifications.kinds import NotificationKind, register
from notifications.models import Channel

_SMS = frozenset({Channel.SMS})
_EMAIL = frozenset({Channel.EMAIL})
_SMS_AND_EMAIL = frozenset({Channel.SMS, Channel.EMAIL})

for code, label, channels in (
    ("purchase_order_sent", _("New purchase order"), _SMS_AND_EMAIL),
    ("purchase_order_acknowledged", _("Purchase order acknowledged"), _EMAIL),
    ("purchase_order_declined", _("Purchase order declined"), _SMS_AND_EMAIL),
    ("purchase_order_ready", _("Goods ready or shipped"), _SMS),
    ("purchase_order_closed", _("Purchase order closed"), _EMAIL),
    ("pickup_notice", _("Pickup notice"), _SMS),
    ("after_sales_submitted", _("New after-sales request"), _SMS),
    ("after_sales_decided", _("After-sales request decided"), _SMS),
    ("after_sales_escalated", _("After-sales request escalated to the platform"), _EMAIL),
):
    register(NotificationKind(code, label, channels))

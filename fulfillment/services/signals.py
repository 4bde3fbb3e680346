"""The fulfilment stage follows the orders stage's refunds."""

from django.dispatch import receiver

from orders.services.refunds import refund_succeeded

from .aftersales import after_sales_refund_succeeded


@receiver(refund_succeeded, dispatch_uid="fulfillment.after_sales_refunded")
def _refund_succeeded(sender, refund, **kwargs):
    after_sales_refund_succeeded(refund=refund)

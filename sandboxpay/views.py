from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from . import gateway
from .models import Charge, ChargeStatus


@require_http_methods(["GET", "POST"])
def cashier(request, token):
    """The hosted cashier page: anyone holding the link may pay, as with a real QR code."""
    charge = get_object_or_404(Charge, token=token)
    if request.method == "POST" and charge.status == ChargeStatus.OPEN:
        charge = gateway.charge_settle(token=token, paid=request.POST.get("outcome") == "pay")
        return HttpResponseRedirect(charge.return_url)
    return render(request, "sandboxpay/cashier.html", {"charge": charge})

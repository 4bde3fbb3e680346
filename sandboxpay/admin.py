from django.contrib import admin

from .models import Charge, ChargeRefund


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ["trade_number", "amount", "status", "created_at", "notified_at"]
    list_filter = ["status"]
    search_fields = ["trade_number", "reference"]
    readonly_fields = [field.name for field in Charge._meta.fields]


@admin.register(ChargeRefund)
class ChargeRefundAdmin(admin.ModelAdmin):
    list_display = ["refund_number", "charge", "amount", "created_at"]
    readonly_fields = [field.name for field in ChargeRefund._meta.fields]

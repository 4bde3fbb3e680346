from django.contrib import admin

from .models import StateChange


@admin.register(StateChange)
class StateChangeAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "content_type",
        "object_id",
        "transition",
        "from_state",
        "to_state",
        "actor",
    ]
    list_filter = ["content_type", "transition"]
    readonly_fields = [f.name for f in StateChange._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

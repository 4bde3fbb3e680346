from . import urls_builder, urls_member, urls_negotiation

app_name = "scheduling"

urlpatterns = [
    *urls_negotiation.urlpatterns,
    *urls_builder.urlpatterns,
    *urls_member.urlpatterns,
]

from . import urls_import, urls_leader, urls_staff, urls_supplier

app_name = "catalog"

urlpatterns = [
    *urls_supplier.urlpatterns,
    *urls_import.urlpatterns,
    *urls_staff.urlpatterns,
    *urls_leader.urlpatterns,
]

from django.urls import path

from .views import leader, member, public, staff, supplier

app_name = "accounts"

urlpatterns = [
    path("join/<str:code>/", public.invite, name="invite"),
    path("join/<str:code>/qr.svg", public.invite_qr, name="invite_qr"),
    path("roles/switch/", public.role_switch, name="role_switch"),
    path("language/", public.set_language, name="set_language"),
    # Member (mobile)
    path("m/", member.MemberHomeView.as_view(), name="member_home"),
    path("m/join/", member.JoinByCodeView.as_view(), name="join_by_code"),
    path("m/communities/", member.CommunitiesView.as_view(), name="member_communities"),
    path(
        "m/communities/<int:community_id>/current/",
        member.SetCurrentCommunityView.as_view(),
        name="set_current_community",
    ),
    path("m/profile/", member.ProfileView.as_view(), name="profile"),
    # Leader
    path("leader/", leader.LeaderHomeView.as_view(), name="leader_home"),
    path("leader/apply/", leader.LeaderApplyView.as_view(), name="leader_apply"),
    path(
        "leader/applications/<int:community_id>/resubmit/",
        leader.LeaderApplicationResubmitView.as_view(),
        name="leader_application_resubmit",
    ),
    path(
        "leader/communities/<int:community_id>/",
        leader.CommunityDetailView.as_view(),
        name="community_detail",
    ),
    path(
        "leader/communities/<int:community_id>/edit/",
        leader.CommunityEditView.as_view(),
        name="community_edit",
    ),
    path(
        "leader/communities/<int:community_id>/pickup-points/new/",
        leader.PickupPointCreateView.as_view(),
        name="pickup_point_create",
    ),
    path(
        "leader/communities/<int:community_id>/pickup-points/<int:pickup_point_id>/edit/",
        leader.PickupPointEditView.as_view(),
        name="pickup_point_edit",
    ),
    # Supplier
    path("supplier/", supplier.SupplierHomeView.as_view(), name="supplier_home"),
    path("supplier/register/", supplier.SupplierRegisterView.as_view(), name="supplier_register"),
    path("supplier/registration/", supplier.SupplierStatusView.as_view(), name="supplier_status"),
    path(
        "supplier/team/add/", supplier.SupplierMemberAddView.as_view(), name="supplier_member_add"
    ),
    # Platform staff
    path("staff/", staff.StaffHomeView.as_view(), name="staff_home"),
    path("staff/suppliers/", staff.SupplierQueueView.as_view(), name="staff_suppliers"),
    path("staff/suppliers/<int:pk>/", staff.SupplierReviewView.as_view(), name="staff_supplier"),
    path(
        "staff/suppliers/<int:pk>/approve/",
        staff.SupplierReviewView.as_view(),
        {"decision": "approve"},
        name="staff_supplier_approve",
    ),
    path(
        "staff/suppliers/<int:pk>/reject/",
        staff.SupplierReviewView.as_view(),
        {"decision": "reject"},
        name="staff_supplier_reject",
    ),
    path("staff/leaders/", staff.LeaderQueueView.as_view(), name="staff_leaders"),
    path("staff/leaders/<int:pk>/", staff.LeaderReviewView.as_view(), name="staff_leader"),
    path(
        "staff/leaders/<int:pk>/approve/",
        staff.LeaderReviewView.as_view(),
        {"decision": "approve"},
        name="staff_leader_approve",
    ),
    path(
        "staff/leaders/<int:pk>/reject/",
        staff.LeaderReviewView.as_view(),
        {"decision": "reject"},
        name="staff_leader_reject",
    ),
]

from django.contrib.auth import views as auth_views
from django.urls import path

from pedsdesk.practices import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/second-factor/", views.second_factor, name="second_factor"),
    path("account/", views.account, name="account"),
    path("account/tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("staff/", views.StaffList.as_view(), name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", views.StaffDetail.as_view(), name="staff_detail"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    path("practice/", views.practice_edit, name="practice_edit"),
]

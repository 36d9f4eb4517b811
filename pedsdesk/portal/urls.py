from django.urls import path

from pedsdesk.portal import views

urlpatterns = [
    path("f/<str:token>/", views.family_portal, name="family_portal"),
    path("patients/<int:pk>/family-links/new/", views.family_link_create, name="family_link_create"),
    path("family-links/<int:pk>/revoke/", views.family_link_revoke, name="family_link_revoke"),
]

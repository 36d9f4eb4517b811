from django.urls import path

from pedsdesk.authorizations import views

urlpatterns = [
    path("payers/", views.PayerList.as_view(), name="payer_list"),
    path("payers/new/", views.PayerCreate.as_view(), name="payer_create"),
    path("payers/<int:pk>/", views.PayerDetail.as_view(), name="payer_detail"),
    path("payers/<int:pk>/edit/", views.PayerUpdate.as_view(), name="payer_edit"),
    path("patients/<int:pk>/coverages/new/", views.CoverageCreate.as_view(), name="coverage_create"),
    path("coverages/<int:pk>/edit/", views.CoverageUpdate.as_view(), name="coverage_edit"),
]

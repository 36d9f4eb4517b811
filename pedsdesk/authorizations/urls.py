from django.urls import path

from pedsdesk.authorizations import views

urlpatterns = [
    path("payers/", views.PayerList.as_view(), name="payer_list"),
    path("payers/new/", views.PayerCreate.as_view(), name="payer_create"),
    path("payers/<int:pk>/", views.PayerDetail.as_view(), name="payer_detail"),
    path("payers/<int:pk>/edit/", views.PayerUpdate.as_view(), name="payer_edit"),
    path("patients/<int:pk>/coverages/new/", views.CoverageCreate.as_view(), name="coverage_create"),
    path("coverages/<int:pk>/edit/", views.CoverageUpdate.as_view(), name="coverage_edit"),
    path("authorizations/", views.authorization_board, name="authorization_board"),
    path("authorizations/<int:pk>/", views.authorization_detail, name="authorization_detail"),
    path("authorizations/<int:pk>/edit/", views.AuthorizationUpdate.as_view(), name="authorization_edit"),
    path("patients/<int:pk>/authorizations/new/", views.AuthorizationCreate.as_view(), name="authorization_create"),
    path("authorizations/<int:pk>/renewal/", views.renewal_start, name="renewal_start"),
    path("renewals/", views.renewal_list, name="renewal_list"),
    path("renewals/<int:pk>/", views.renewal_detail, name="renewal_detail"),
    path("renewals/<int:pk>/request/", views.renewal_edit, name="renewal_edit"),
    path("renewals/<int:pk>/submit/", views.renewal_submit, name="renewal_submit"),
    path("renewals/<int:pk>/pending/", views.renewal_pending, name="renewal_pending"),
    path("renewals/<int:pk>/decision/", views.renewal_decide, name="renewal_decide"),
    path("renewals/<int:pk>/packet.pdf", views.renewal_packet_download, name="renewal_packet"),
    path("renewal-documents/<int:pk>/", views.renewal_document, name="renewal_document"),
]

from django.urls import path

from pedsdesk.schools import family, views

urlpatterns = [
    path("schools/", views.SchoolList.as_view(), name="school_list"),
    path("schools/new/", views.SchoolCreate.as_view(), name="school_create"),
    path("schools/<int:pk>/", views.SchoolDetail.as_view(), name="school_detail"),
    path("schools/<int:pk>/edit/", views.SchoolUpdate.as_view(), name="school_edit"),
    path("schools/<int:pk>/calendar/new/", views.school_day_create, name="school_day_create"),
    path("school-days/<int:pk>/delete/", views.school_day_delete, name="school_day_delete"),
    path("school-contacts/new/", views.ContactCreate.as_view(), name="school_contact_create"),
    path("school-contacts/<int:pk>/edit/", views.ContactUpdate.as_view(), name="school_contact_edit"),
    path("patients/<int:pk>/school/", views.school_patient, name="school_patient"),
    path("patients/<int:pk>/school/plan/", views.student_plan_edit, name="school_student_plan"),
    path("patients/<int:pk>/school/authorizations/new/", views.authorization_create,
         name="school_authorization_create"),
    path("patients/<int:pk>/school/ferpa/new/", views.ferpa_create, name="school_ferpa_create"),
    path("patients/<int:pk>/school/ask-family/", views.request_signature, name="school_request_signature"),
    path("patients/<int:pk>/school/requests/new/", views.request_create, name="school_request_create"),
    path("patients/<int:pk>/school/meetings/new/", views.meeting_create, name="school_meeting_create"),
    path("patients/<int:pk>/school/disclosures/", views.disclosures, name="school_disclosures"),
    path("school-authorizations/<int:pk>/", views.authorization_detail, name="school_authorization_detail"),
    path("school-authorizations/<int:pk>/revoke/", views.authorization_revoke, name="school_authorization_revoke"),
    path("school-authorizations/<int:pk>/end/", views.authorization_end, name="school_authorization_end"),
    path("school-authorizations/<int:pk>/scan/", views.authorization_scan, name="school_authorization_scan"),
    path("school-ferpa/<int:pk>/", views.ferpa_detail, name="school_ferpa_detail"),
    path("school-ferpa/<int:pk>/revoke/", views.ferpa_revoke, name="school_ferpa_revoke"),
    path("school-requests/", views.request_board, name="school_requests"),
    path("school-requests/<int:pk>/", views.request_detail, name="school_request_detail"),
    path("school-summaries/<int:pk>/", views.summary_detail, name="school_summary_detail"),
    path("school-summaries/<int:pk>/send/", views.summary_send, name="school_summary_send"),
    path("school-meetings/<int:pk>/", views.meeting_detail, name="school_meeting_detail"),
    # Outside the staff pages: the school contact's signed link and the family's forms.
    path("s/<str:token>/", views.download, name="school_download"),
    path("f/<str:token>/school-consents/", family.school_forms, name="school_family_forms"),
    path("f/<str:token>/school-consents/<str:kind>/<int:pk>/revoke/", family.revoke_form,
         name="school_family_revoke"),
]

from django.urls import path

from pedsdesk.people import views

urlpatterns = [
    path("patients/", views.PatientList.as_view(), name="patient_list"),
    path("patients/new/", views.PatientCreate.as_view(), name="patient_create"),
    path("patients/pick/", views.patient_pick, name="patient_pick"),
    path("patients/<int:pk>/", views.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/edit/", views.PatientUpdate.as_view(), name="patient_edit"),
    path("patients/<int:pk>/diagnoses/new/", views.diagnosis_create, name="diagnosis_create"),
    path("diagnoses/<int:pk>/delete/", views.diagnosis_delete, name="diagnosis_delete"),
    path("patients/<int:pk>/guardians/new/", views.guardian_create, name="guardian_create"),
    path("patients/<int:pk>/plans-of-care/new/", views.PlanOfCareCreate.as_view(), name="plan_of_care_create"),
    path("guardians/", views.GuardianList.as_view(), name="guardian_list"),
    path("guardians/<int:pk>/", views.GuardianDetail.as_view(), name="guardian_detail"),
    path("guardians/<int:pk>/edit/", views.GuardianUpdate.as_view(), name="guardian_edit"),
    path("guardian-links/<int:pk>/edit/", views.guardian_link_edit, name="guardian_link_edit"),
    path("plans-of-care/<int:pk>/", views.PlanOfCareDetail.as_view(), name="plan_of_care_detail"),
    path("plans-of-care/<int:pk>/edit/", views.PlanOfCareUpdate.as_view(), name="plan_of_care_edit"),
]

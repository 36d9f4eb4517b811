from django.urls import path

from pedsdesk.hep import views, views_family

urlpatterns = [
    path("patients/<int:pk>/home-program/", views.program_builder, name="hep_program"),
    path("patients/<int:pk>/home-program/versions/", views.program_versions, name="hep_versions"),
    path("patients/<int:pk>/home-program/items/<int:item_pk>/photo/", views.item_photo, name="hep_item_photo"),
    path("patients/<int:pk>/home-program/items/<int:item_pk>/photo/upload/", views.item_photo_upload,
         name="hep_item_photo_upload"),
    path("patients/<int:pk>/home-program/review/", views.review_log, name="hep_review_log"),
    path("home-programs/", views.caseload, name="hep_caseload"),
    path("home-programs/settings/", views.policy_settings, name="hep_settings"),
    path("home-programs/library/", views.library, name="hep_library"),
    path("home-programs/templates/<int:pk>/archive/", views.template_archive, name="hep_template_archive"),
    path("home-programs/library/new/", views.activity_create, name="hep_activity_create"),
    path("home-programs/library/<int:pk>/", views.activity_edit, name="hep_activity_edit"),
    path("home-programs/library/<int:pk>/picture/", views.activity_picture, name="hep_activity_picture"),
    path("home-programs/library/<int:pk>/copy/", views.activity_copy, name="hep_activity_copy"),
    path("home-programs/deliveries/<int:pk>/resend/", views.delivery_resend, name="hep_delivery_resend"),
    path("home-programs/feedback/<int:pk>/answered/", views.question_answered, name="hep_question_answered"),
    path("f/<str:token>/home-program/feedback/", views_family.feedback, name="hep_family_feedback"),
    path("f/<str:token>/home-program/reminders/", views_family.reminders, name="hep_family_reminders"),
    path("f/<str:token>/home-program.pdf", views_family.program_pdf, name="hep_family_pdf"),
]

from django.urls import path

from pedsdesk.schools import views

urlpatterns = [
    path("schools/", views.SchoolList.as_view(), name="school_list"),
    path("schools/new/", views.SchoolCreate.as_view(), name="school_create"),
    path("schools/<int:pk>/", views.SchoolDetail.as_view(), name="school_detail"),
    path("schools/<int:pk>/edit/", views.SchoolUpdate.as_view(), name="school_edit"),
    path("schools/<int:pk>/calendar/new/", views.school_day_create, name="school_day_create"),
    path("school-days/<int:pk>/delete/", views.school_day_delete, name="school_day_delete"),
]

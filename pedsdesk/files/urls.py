from django.urls import path

from pedsdesk.files import views

urlpatterns = [
    path("files/<str:token>/", views.private_file, name="private_file"),
]

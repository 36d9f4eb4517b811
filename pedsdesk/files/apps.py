from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "pedsdesk.files"
    label = "files"
    verbose_name = "Private files"

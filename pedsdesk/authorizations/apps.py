from django.apps import AppConfig


class AuthorizationsConfig(AppConfig):
    name = "pedsdesk.authorizations"
    label = "authorizations"
    verbose_name = "Authorizations"

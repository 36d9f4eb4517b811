from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "pedsdesk.demo"
    label = "demo"
    verbose_name = "Demo practice and run commands"

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "pedsdesk.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # Registers the built-in message kinds and the delivery sweep.
        from pedsdesk.messaging import kinds, sweeps  # noqa: F401

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "pedsdesk.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # Registers the built-in message kinds, the delivery sweep and the outbox's figures.
        from pedsdesk.messaging import figures, kinds, sweeps  # noqa: F401

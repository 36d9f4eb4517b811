from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def audit_key_is_set(app_configs, **kwargs) -> list[Error]:
    """In production the audit chain's HMAC key comes from the environment, never a default."""
    key = settings.PEDSDESK_AUDIT_KEY
    if not key or len(key) < 32:
        return [Error("PEDSDESK_AUDIT_KEY is not set (or shorter than 32 characters).",
                      hint="Set it to a long random secret kept outside the database and its backups, e.g. "
                           "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`, and keep a copy "
                           "beside your backups: without it `pedsdesk audit verify` cannot check the log.",
                      id="pedsdesk.E001")]
    if key == settings.SECRET_KEY:
        return [Error("PEDSDESK_AUDIT_KEY must differ from PEDSDESK_SECRET_KEY.", id="pedsdesk.E002")]
    return []

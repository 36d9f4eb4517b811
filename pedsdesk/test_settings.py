"""Settings for the test suite: the real settings with an in-process cache and
huey in immediate mode (tasks run inline, in the test's transaction)."""

import tempfile as _tempfile

from huey import MemoryHuey

from pedsdesk.settings import *  # noqa: F403

TESTING = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
HUEY = MemoryHuey("pedsdesk-test", immediate=True)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The tests' own data directory: what the console channel "sends" never lands in the
# demo's var/outbox logs (those are for reading the demo's messages).
DATA_DIR = Path(_tempfile.mkdtemp(prefix="pedsdesk-test-data-"))  # noqa: F405
# Argon2 stays the production hasher (tested); hashing every persona with it would
# make each test half a second slower.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405

# A file, not shared-cache memory, so concurrent bookings in threads meet SQLite's real
# locking (IMMEDIATE transactions, busy timeout) as they do in production.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(Path(_tempfile.mkdtemp(prefix="pedsdesk-test-")) / "test.sqlite3")}  # noqa: F405

import tempfile as _tempfile_private  # noqa: E402

PEDSDESK_PRIVATE_DIR = Path(_tempfile_private.mkdtemp(prefix="pedsdesk-private-"))  # noqa: F405
PEDSDESK_AUDIT_KEY = "test-audit-key-not-a-secret-0123456789abcdef"
PEDSDESK_AUDIT_CHECKPOINT_DIR = Path(_tempfile_private.mkdtemp(prefix="pedsdesk-checkpoints-"))  # noqa: F405
# Off, so other apps' tests count only their own messages; pedsdesk/audit/tests turn it on.
PEDSDESK_AUDIT_EMAIL_HOUR = None

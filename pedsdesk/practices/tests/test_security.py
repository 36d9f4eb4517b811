import subprocess
import sys
import time

import pyotp
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse

from conftest import PASSWORD, make_practice, signed_in

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def _current_code(user) -> str:
    user.refresh_from_db()
    return pyotp.TOTP(user.totp_secret).now()


def test_first_sign_in_enrols_the_authenticator_with_a_qr_code(front_desk):
    client = Client()
    response = _sign_in(client, "fran")
    assert response.status_code == 302
    # Nothing but the second-factor page until the code is entered.
    assert client.get(reverse("patient_list")).status_code == 302
    page = client.get(reverse("second_factor"))
    assert b"Set up your authenticator app" in page.content
    assert b'src="data:image/svg+xml' in page.content
    wrong = client.post(reverse("second_factor"), {"code": "000000"})
    assert b"That code is not right" in wrong.content
    done = client.post(reverse("second_factor"), {"code": _current_code(front_desk), "next": "/patients/"})
    assert done.status_code == 302 and done["Location"] == "/patients/"
    assert client.get(reverse("patient_list")).status_code == 200
    front_desk.refresh_from_db()
    assert front_desk.totp_confirmed_at is not None


def test_a_code_cannot_be_used_twice(front_desk):
    first, second = Client(), Client()
    _sign_in(first, "fran")
    first.get(reverse("second_factor"))  # enrolment creates the secret
    code = _current_code(front_desk)
    assert first.post(reverse("second_factor"), {"code": code}).status_code == 302
    _sign_in(second, "fran")
    replay = second.post(reverse("second_factor"), {"code": code})
    assert replay.status_code == 200 and b"That code is not right" in replay.content


def test_demo_practice_may_switch_the_second_factor_off_but_a_real_one_may_not(practice):
    practice.require_second_factor = False
    with pytest.raises(ValidationError, match="Only the demo practice"):
        practice.full_clean()
    demo = make_practice("Demo Kids Therapy", is_demo=True, require_second_factor=False)
    demo.full_clean()


def test_demo_practice_signs_in_with_password_only(db):
    from conftest import make_staff

    demo = make_practice("Demo Kids Therapy", is_demo=True, require_second_factor=False)
    make_staff(demo, "demo-owner", "owner")
    client = Client()
    _sign_in(client, "demo-owner")
    assert client.get(reverse("dashboard")).status_code == 200


def test_sign_in_is_throttled_after_repeated_failures(front_desk):
    client = Client()
    for _ in range(settings.PEDSDESK_LOGIN_ATTEMPTS):
        response = _sign_in(client, "fran", "wrong password")
        assert b"Please enter a correct username and password" in response.content
    blocked = _sign_in(client, "fran")  # even the right password
    assert b"Too many failed sign-ins" in blocked.content
    assert "_auth_user_id" not in client.session


def test_idle_staff_are_logged_off(front_desk, monkeypatch):
    client = signed_in(front_desk)
    assert client.get(reverse("dashboard")).status_code == 200
    later = time.time() + settings.PEDSDESK_IDLE_MINUTES * 60 + 5
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_practice_can_shorten_idle_logoff(front_desk, monkeypatch):
    front_desk.practice.idle_minutes = 5
    front_desk.practice.save()
    client = signed_in(front_desk)
    client.get(reverse("dashboard"))
    later = time.time() + 6 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get(reverse("dashboard"))["Location"].startswith("/login/")


def test_every_page_carries_a_content_security_policy(front_desk, patient):
    for url in ("/login/", reverse("patient_detail", args=[patient.pk])):
        client = Client() if url == "/login/" else signed_in(front_desk)
        policy = client.get(url)["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_passwords_are_hashed_with_argon2():
    import pedsdesk.settings as production_like

    assert production_like.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_stored_password_is_argon2(practice):
    from conftest import make_staff

    assert make_staff(practice, "hash-check", "billing").password.startswith("argon2")


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "PEDSDESK_ENV": "production",
        "PEDSDESK_SECRET_KEY": "x" * 64 + "-production-test-key-0123456789",
        "PEDSDESK_AUDIT_KEY": "a" * 48 + "-production-audit-key",
        "PEDSDESK_ALLOWED_HOSTS": "pedsdesk.example.org",
        "PEDSDESK_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "pedsdesk.settings",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pedsdesk.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

"""Sign-in throttling that one person's typos cannot turn on everyone: per account, and
per address with a much higher limit; behind a proxy, per address the proxy saw."""

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(username: str, password: str = PASSWORD, **headers):
    client = Client(**headers)
    return client, client.post(reverse("login"), {"username": username, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(username: str, times: int, **headers) -> None:
    for _ in range(times):
        _, response = sign_in(username, "wrong password", **headers)
        assert b"Please enter a correct username and password" in response.content


def test_one_persons_typos_lock_only_their_account(front_desk, therapist):
    fail("fran", settings.PEDSDESK_LOGIN_ATTEMPTS)
    client, response = sign_in("fran")  # even the right password waits
    assert b"Too many failed sign-ins for this account" in response.content and not signed_in(client)
    colleague, _ = sign_in("theo")  # same office, same address, the right password
    assert signed_in(colleague)


def test_the_account_is_counted_whatever_the_case_of_its_name(front_desk):
    fail("FRAN", settings.PEDSDESK_LOGIN_ATTEMPTS - 1)
    fail(" Fran ", 1)
    client, response = sign_in("fran")
    assert b"Too many failed sign-ins for this account" in response.content and not signed_in(client)


def test_a_right_password_before_the_limit_clears_the_accounts_count(front_desk):
    fail("fran", settings.PEDSDESK_LOGIN_ATTEMPTS - 1)
    client, _ = sign_in("fran")
    assert signed_in(client)
    fail("fran", settings.PEDSDESK_LOGIN_ATTEMPTS - 1)
    again, _ = sign_in("fran")
    assert signed_in(again)


def test_a_guessing_run_from_one_address_stops_every_account_there(front_desk, therapist):
    for i in range(settings.PEDSDESK_LOGIN_IP_ATTEMPTS):
        fail(f"guess{i}", 1)
    client, response = sign_in("theo")
    assert b"Too many failed sign-ins from this network" in response.content and not signed_in(client)
    elsewhere, _ = sign_in("theo", REMOTE_ADDR="198.51.100.7")
    assert signed_in(elsewhere)


@override_settings(PEDSDESK_TRUSTED_PROXIES=1)
def test_behind_a_proxy_each_office_is_its_own_address(front_desk, therapist):
    office = {"HTTP_X_FORWARDED_FOR": "203.0.113.5", "REMOTE_ADDR": "10.0.0.2"}
    home = {"HTTP_X_FORWARDED_FOR": "198.51.100.9", "REMOTE_ADDR": "10.0.0.2"}
    for i in range(settings.PEDSDESK_LOGIN_IP_ATTEMPTS):
        fail(f"guess{i}", 1, **office)
    _, blocked = sign_in("theo", **office)
    assert b"from this network" in blocked.content
    client, _ = sign_in("theo", **home)  # the same proxy, another address behind it
    assert signed_in(client)


def test_the_address_limit_is_much_higher_than_the_accounts():
    assert settings.PEDSDESK_LOGIN_IP_ATTEMPTS >= 5 * settings.PEDSDESK_LOGIN_ATTEMPTS

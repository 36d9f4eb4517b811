import pytest


@pytest.fixture(autouse=True)
def _base_url_kept(settings):
    # `demo --port` points PEDSDESK_BASE_URL at its port; inside the settings fixture's
    # override that change ends with the test.
    settings.PEDSDESK_BASE_URL = settings.PEDSDESK_BASE_URL

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_chart_shows_the_child_and_family(client_for, front_desk, patient):
    response = client_for(front_desk).get(reverse("patient_detail", args=[patient.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ava Lopez" in body and "Rosa Lopez" in body and "Lone Star Medicaid" in body
    assert "97530" in body

"""Activity pictures: uploaded by staff through pedsdesk/files (checked, re-encoded, EXIF
with the phone's location gone, size and pixel limits), shown to staff by permission and
to the family by a signed link on their page."""

import io
import re
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from conftest import signed_in
from pedsdesk.files.storage import private_storage
from pedsdesk.hep.actions import ItemInput, update_and_send
from pedsdesk.hep.models import Activity
from pedsdesk.portal.models import FamilyLink
from pedsdesk.portal.tokens import make_token

pytestmark = pytest.mark.django_db

FORM = {"discipline": "OT", "title_en": "Sock sorting", "title_es": "Clasificar calcetines",
        "steps_en": "Match the pairs.", "steps_es": "Junte los pares.", "days_per_week": "5"}


def phone_photo() -> bytes:
    """A JPEG with the GPS block a phone camera writes."""
    tags = Image.Exif()
    tags[0x010F] = "PhoneMaker"
    tags[0x8825] = {2: (30.0, 16.0, 12.0), 4: (97.0, 44.0, 30.0)}  # GPSInfo: latitude, longitude
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, "JPEG", exif=tags.tobytes())
    return out.getvalue()


def bomb() -> bytes:
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", 60000, 60000) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def upload(client, content: bytes, name: str = "photo.jpg"):
    return client.post("/home-programs/library/new/", {**FORM, "picture_upload": SimpleUploadedFile(
        name, content, content_type="image/jpeg")})


def test_a_phone_photo_is_stored_without_its_location(therapist):
    assert upload(signed_in(therapist), phone_photo()).status_code == 302
    activity = Activity.objects.get(title_en="Sock sorting")
    with private_storage().open(activity.picture.storage_name) as stored:
        image = Image.open(stored)
        assert not image.getexif() and "exif" not in image.info
    response = signed_in(therapist).get(f"/home-programs/library/{activity.pk}/picture/")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/")


@pytest.mark.parametrize(("content", "says"), [
    (b"<html><script>alert(1)</script></html>", "SVG and web pages are not accepted"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
    (b"just some text", "not a JPEG"),
])
def test_markup_and_non_images_are_refused_and_nothing_is_saved(therapist, content, says):
    response = upload(signed_in(therapist), content)
    assert response.status_code == 400 and says in response.content.decode()
    assert not Activity.objects.filter(title_en="Sock sorting").exists()


def test_a_decompression_bomb_and_an_oversized_file_are_refused(therapist, settings):
    response = upload(signed_in(therapist), bomb(), "big.png")
    assert response.status_code == 400 and "pixels" in response.content.decode()
    settings.PEDSDESK_UPLOAD_MAX_BYTES = 1000
    response = upload(signed_in(therapist), phone_photo() + b"\0" * 2000)
    assert response.status_code == 400
    assert not Activity.objects.filter(title_en="Sock sorting").exists()


def test_the_family_sees_the_picture_by_a_signed_link_and_an_outsider_does_not(therapist, outsider, patient):
    upload(signed_in(therapist), phone_photo())
    activity = Activity.objects.get(title_en="Sock sorting")
    update_and_send(actor=therapist, patient=patient, items=[ItemInput(activity.pk)], note="",
                    guardians=list(patient.guardians.all()))
    link = FamilyLink.objects.get(patient=patient)
    page = Client().get(f"/f/{make_token(link)}/").content.decode()
    src = re.search(r'<img src="(/files/[^"]+)"', page).group(1)
    assert Client().get(src).status_code == 200
    assert signed_in(outsider).get(f"/home-programs/library/{activity.pk}/picture/").status_code == 404

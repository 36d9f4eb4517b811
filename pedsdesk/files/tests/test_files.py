"""Private files: what is refused (each bad input says what to send instead), what is
kept (pixels only), and how bytes leave (a permission-checked view or a signed link)."""

import datetime as dt
import io
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from pedsdesk.audit.models import AuditEvent
from pedsdesk.files.actions import IMAGE, PDF, check_upload, discard_file, store_file
from pedsdesk.files.links import signed_url
from pedsdesk.files.responses import file_response
from pedsdesk.files.storage import private_storage


def _jpeg(size=(64, 48), exif: bytes | None = None, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 40, 40))
    out = io.BytesIO()
    if orientation is not None:
        tags = Image.Exif()
        tags[0x0112] = orientation
        tags[0x010F] = "PhoneMaker"  # camera make
        exif = tags.tobytes()
    image.save(out, "JPEG", **({"exif": exif} if exif else {}))
    return out.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose header claims another size: a decompression bomb's shape."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


PDF_OK = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _refusal(content, accept=frozenset({IMAGE})) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check_upload(SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg"), accept=accept)
    return caught.value


@pytest.mark.parametrize(("content", "code", "says"), [
    (b"", "empty", "empty"),
    (b"just some text, named photo.jpg", "wrong_type", "not a JPEG"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "markup", "SVG and web pages are not accepted"),
    (b"\xef\xbb\xbf  <svg onload=alert(1)>", "markup", "SVG"),
    (b"\n<!DOCTYPE html><html><script>fetch('/patients/')</script>", "markup", "web pages"),
    (b"<html><body>posing as a picture</body></html>", "markup", "web pages"),
    (PDF_OK, "wrong_type", "A PDF file is not accepted here"),
    (_jpeg()[:40], "damaged", "damaged or incomplete"),
    (_png_claiming(100_000, 100_000), "too_many_pixels", "million pixels"),
])
def test_bad_pictures_are_refused_with_what_to_do(content, code, says):
    refused = _refusal(content)
    assert refused.code == code
    assert says in refused.message


def test_a_picture_over_the_pixel_limit_is_refused_before_decoding(settings):
    settings.PEDSDESK_IMAGE_MAX_PIXELS = 1_000_000
    # 1,200 x 1,000 decodes fine in Pillow (under its own bomb limit) but is over ours.
    assert _refusal(_png_claiming(1200, 1000)).code == "too_many_pixels"


def test_pillows_own_bomb_warning_is_a_refusal(settings, monkeypatch):
    settings.PEDSDESK_IMAGE_MAX_PIXELS = 10**12
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert _refusal(_png_claiming(40, 40)).code == "too_many_pixels"  # 1,600 px: Pillow's warning
    assert _refusal(_png_claiming(100, 100)).code == "too_many_pixels"  # 10,000 px: its error


def test_too_many_bytes_is_refused_with_the_limit(settings):
    settings.PEDSDESK_UPLOAD_MAX_BYTES = 1000
    refused = _refusal(_jpeg((400, 400)) + b"\0" * 2000)
    assert refused.code == "too_large" and "the limit is" in refused.message


def test_pictures_are_reencoded_without_exif_and_keep_their_orientation():
    # Orientation 6: the camera was turned; the stored picture is upright, with no EXIF left.
    checked = check_upload(_jpeg((60, 40), orientation=6), accept={IMAGE})
    assert checked.content_type == "image/jpeg"
    with Image.open(io.BytesIO(checked.content)) as image:
        assert image.size == (40, 60)
        assert not image.getexif()
        assert "exif" not in image.info
    assert b"PhoneMaker" not in checked.content


def test_a_jpeg_with_html_appended_loses_the_html():
    checked = check_upload(_jpeg() + b"<script>alert(1)</script>", accept={IMAGE})
    assert b"<script>" not in checked.content


def test_large_pictures_are_scaled_for_phones(settings):
    settings.PEDSDESK_IMAGE_MAX_SIDE = 100
    checked = check_upload(_jpeg((400, 200)), accept={IMAGE})
    assert (checked.width, checked.height) == (100, 50)


def test_transparent_pictures_stay_png():
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, "PNG")
    assert check_upload(out.getvalue(), accept={IMAGE}).content_type == "image/png"


@pytest.mark.parametrize(("content", "code"), [
    (PDF_OK.replace(b"/Type /Catalog", b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "active_pdf"),
    (PDF_OK.replace(b"/Type /Catalog", b"/OpenAction << /S /J#61vaScript >>"), "active_pdf"),
    (PDF_OK.replace(b"/Type /Catalog", b"/Names << /EmbeddedFiles 2 0 R >>"), "active_pdf"),
    (PDF_OK.replace(b"/Type /Catalog", b"/AA << /O << /S /Launch /F (cmd.exe) >> >>"), "active_pdf"),
    (PDF_OK[:-7], "truncated"),
    (_jpeg(), "wrong_type"),
])
def test_bad_scans_are_refused(content, code):
    assert _refusal(content, accept=frozenset({PDF})).code == code


def test_a_plain_pdf_scan_is_accepted():
    assert check_upload(PDF_OK, accept={PDF, IMAGE}).content_type == "application/pdf"


@pytest.fixture
def stored(practice, therapist, patient):
    return store_file(practice=practice, purpose="activity_picture", patient_id=patient.pk, actor=therapist,
                      checked=check_upload(_jpeg(), accept={IMAGE}), download_name="activity picture")


@pytest.mark.django_db
def test_stored_files_live_in_the_private_directory_with_a_random_name(stored, patient):
    path = Path(private_storage().path(stored.storage_name))
    assert path.is_file() and path.is_relative_to(settings.PEDSDESK_PRIVATE_DIR)
    assert not path.is_relative_to(Path(settings.STATIC_ROOT))
    assert patient.last_name.lower() not in stored.storage_name.lower()
    assert stored.download_name == "activity-picture.jpg"
    event = AuditEvent.objects.get(object_type="files.storedfile", action="create")
    assert event.patient_id == patient.pk
    with pytest.raises(NotImplementedError):
        private_storage().url(stored.storage_name)


@pytest.mark.django_db
def test_no_url_serves_the_private_directory(stored, client):
    for prefix in ("/media/", "/static/", "/files/", "/"):
        assert client.get(prefix + stored.storage_name).status_code == 404


def _assert_private_headers(response, disposition: str):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private, no-store")
    assert response["Content-Disposition"].startswith(disposition)
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_signed_link_serves_the_file_privately_and_is_audited(stored, client):
    url = signed_url(stored, audience="guardian 7", valid_for=dt.timedelta(hours=1))
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")
    _assert_private_headers(response, 'inline; filename="activity-picture.jpg"')
    event = AuditEvent.objects.filter(action="view", object_type="files.storedfile").get()
    assert event.actor_label == "signed link (guardian 7)" and event.patient_id == stored.patient_id


@pytest.mark.django_db
def test_tampered_expired_and_discarded_links_serve_nothing(stored, client, therapist, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    url = signed_url(stored, audience="guardian 7", valid_for=dt.timedelta(minutes=5))
    assert client.get(url[:-3] + ("x" if url[-3] != "x" else "y") + url[-2:]).status_code == 404
    with pytest.raises(ValueError, match="at most"):
        signed_url(stored, audience="forever", valid_for=dt.timedelta(days=365))
    import time
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 301)
    assert client.get(url).status_code == 404
    monkeypatch.setattr(time, "time", real)
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        discard_file(stored=stored, actor=therapist)
    assert client.get(url).status_code == 404
    assert not Path(private_storage().path(stored.storage_name)).exists()


@pytest.mark.django_db
def test_a_permission_checked_view_serves_documents_as_downloads(stored, rf, therapist):
    request = rf.get("/anything")
    response = file_response(request, stored, actor=therapist, inline=False)
    _assert_private_headers(response, "attachment;")
    assert AuditEvent.objects.filter(action="view", actor_id=therapist.pk, object_id=str(stored.pk)).exists()

"""What a file is, from its bytes: never from its name or the browser's claim.

Pure logic (Pillow, no Django): images are decoded within pixel limits and re-encoded
without metadata, PDFs are checked for a real header and for active content. Every
refusal says what to upload instead.
"""

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE = "image"
PDF = "pdf"

_IMAGE_MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
}
# PDF names that run code or carry other files; names may be #xx-escaped (/J#61vaScript).
_ACTIVE_PDF_NAMES = {"JavaScript", "JS", "Launch", "EmbeddedFile", "EmbeddedFiles", "XFA", "RichMedia"}
_PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_MARKUP = re.compile(rb"^\s*(<\?xml|<!doctype|<svg|<html|<script|<body|<head|<iframe|<!--)", re.IGNORECASE)


class Refused(ValueError):
    """The file is not accepted; ``str()`` says why and what to upload instead."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Checked:
    content: bytes
    content_type: str
    extension: str
    kind: str
    width: int | None = None
    height: int | None = None


def _kind_from_magic(head: bytes) -> tuple[str, str] | None:
    for magic, name in _IMAGE_MAGIC.items():
        if head.startswith(magic):
            return IMAGE, name
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return IMAGE, "WEBP"
    if head.startswith(b"%PDF-"):
        return PDF, "PDF"
    return None


def _looks_like_markup(head: bytes) -> bool:
    return bool(_MARKUP.match(head.lstrip(b"\xef\xbb\xbf")))


def check_bytes(content: bytes, *, accept: frozenset[str], max_bytes: int, max_pixels: int,
                max_side: int) -> Checked:
    """Accept ``content`` as one of the kinds in ``accept`` (IMAGE, PDF) or raise Refused."""
    accepted = " or ".join(sorted({"JPEG, PNG, WebP or GIF picture" if k == IMAGE else "PDF" for k in accept}))
    if not content:
        raise Refused("The file is empty; choose the file again.", "empty")
    if len(content) > max_bytes:
        raise Refused(f"The file is {len(content) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. "
                      "Send a smaller picture or scan at a lower resolution.", "too_large")
    head = content[:64]
    found = _kind_from_magic(head)
    if found is None:
        if _looks_like_markup(head):
            raise Refused(f"SVG and web pages are not accepted, even named as pictures; upload a {accepted}.",
                          "markup")
        raise Refused(f"This file is not a {accepted} (its content says otherwise, whatever its name).",
                      "wrong_type")
    kind, fmt = found
    if kind not in accept:
        raise Refused(f"A {fmt} file is not accepted here; upload a {accepted}.", "wrong_type")
    if kind == PDF:
        return _check_pdf(content)
    return _reencode_image(content, fmt, max_pixels=max_pixels, max_side=max_side)


def _check_pdf(content: bytes) -> Checked:
    if b"%%EOF" not in content[-2048:]:
        raise Refused("The PDF is cut short (it has no end marker); save or scan it again.", "truncated")
    for match in _PDF_NAME.finditer(content):
        name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        if name.decode("latin-1") in _ACTIVE_PDF_NAMES:
            raise Refused("The PDF contains scripts, forms or attached files; print it to a plain PDF "
                          "(or scan the paper) and upload that.", "active_pdf")
    return Checked(content=content, content_type="application/pdf", extension=".pdf", kind=PDF)


def _reencode_image(content: bytes, fmt: str, *, max_pixels: int, max_side: int) -> Checked:
    too_big = Refused(f"The picture has more than {max_pixels / 1e6:.0f} million pixels; "
                      "send a smaller picture.", "too_many_pixels")
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that; both are refusals.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[fmt]) as image:
                if image.width * image.height > max_pixels:
                    raise too_big
                image.load()
                image = ImageOps.exif_transpose(image)  # keep the orientation, drop the EXIF that held it
                if max(image.size) > max_side:
                    image.thumbnail((max_side, max_side))
                has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
                clean = image.convert("RGBA" if has_alpha else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, Refused):
            raise
        raise Refused(f"The {fmt} picture is damaged or incomplete; take or save it again.", "damaged") from None
    out = io.BytesIO()
    # A new image from the pixels alone: no EXIF (GPS, camera, names), no comments, no ICC text.
    if has_alpha:
        clean.save(out, format="PNG", optimize=True)
        return Checked(out.getvalue(), "image/png", ".png", IMAGE, clean.width, clean.height)
    clean.save(out, format="JPEG", quality=85)
    return Checked(out.getvalue(), "image/jpeg", ".jpg", IMAGE, clean.width, clean.height)

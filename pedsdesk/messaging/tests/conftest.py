"""A real SMTP server (aiosmtpd) and a local stand-in for Twilio's REST API, both on
127.0.0.1, plus helpers to sign webhooks the way Twilio does."""

import base64
import json
import socket
import threading
import uuid
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FROM_NUMBER = "+15125550100"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SinkHandler:
    """Keeps every email; refuses recipients listed in ``refuse`` with their SMTP reply."""

    def __init__(self):
        self.messages = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink(settings):
    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.PEDSDESK_EMAIL_CHANNEL = "smtp"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "office@sunnysteps.example"
    settings.PEDSDESK_MESSAGE_ID_DOMAIN = "sunnysteps.example"
    settings.PEDSDESK_SMTP_TIMEOUT = 5
    yield handler
    controller.stop()


class FakeTwilio:
    """Checks each request against the shape of Twilio's Messages API and answers like it."""

    def __init__(self):
        self.created: list[dict] = []
        self.problems: list[str] = []
        self.errors: dict[str, tuple[int, int]] = {}  # To -> (HTTP status, Twilio code)
        self.create_then_fail: set[str] = set()  # To: keep the text, then answer 500
        self.lock = threading.Lock()

    def handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _auth_ok(self) -> bool:
                expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                return self.headers.get("Authorization") == expected

            def _reply(self, status: int, payload: dict):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                    fake.problems.append(f"path {path}")
                    return self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                if not self._auth_ok():
                    fake.problems.append("auth")
                    return self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    fake.problems.append("content type")
                if not form.get("To") or not form.get("Body") or not (form.get("From") or
                                                                         form.get("MessagingServiceSid")):
                    fake.problems.append(f"fields {sorted(form)}")
                    return self._reply(400, {"code": 21604, "message": "missing field", "status": 400})
                if form["To"] in fake.errors:
                    status, code = fake.errors[form["To"]]
                    return self._reply(status, {"code": code, "message": f"error {code}", "status": status,
                                                "more_info": f"https://www.twilio.com/docs/errors/{code}"})
                sid = "SM" + uuid.uuid4().hex
                now = timezone.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
                record = {"sid": sid, "account_sid": ACCOUNT_SID, "to": form["To"], "from": form.get("From"),
                          "messaging_service_sid": form.get("MessagingServiceSid"), "body": form["Body"],
                          "status": "queued", "date_created": now, "date_updated": now, "date_sent": None,
                          "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
                          "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
                          "status_callback": form.get("StatusCallback")}
                with fake.lock:
                    fake.created.append({**record, "form": form})
                if form["To"] in fake.create_then_fail:
                    return self._reply(500, {"code": 20500, "message": "Internal Server Error", "status": 500})
                return self._reply(201, record)

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json" or not self._auth_ok():
                    return self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                to = parse_qs(parts.query).get("To", [None])[0]
                items = [{k: v for k, v in m.items() if k != "form"} for m in reversed(fake.created)
                         if to is None or m["to"] == to]
                return self._reply(200, {"messages": items, "next_page_uri": None, "page": 0, "page_size": 50,
                                         "uri": parts.path, "first_page_uri": parts.path,
                                         "previous_page_uri": None, "start": 0, "end": len(items)})

        return Handler


@pytest.fixture
def fake_twilio(settings):
    fake = FakeTwilio()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.PEDSDESK_SMS_CHANNEL = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TWILIO_TIMEOUT = 5
    yield fake
    server.shutdown()
    server.server_close()
    assert not fake.problems, fake.problems


@pytest.fixture
def console_outbox(settings, tmp_path):
    """Console transports writing under a temporary data directory."""
    settings.PEDSDESK_EMAIL_CHANNEL = "console"
    settings.PEDSDESK_SMS_CHANNEL = "console"
    settings.DATA_DIR = tmp_path
    return tmp_path / "outbox"


@pytest.fixture
def twilio_post(client, settings):
    """POST to a webhook signed with Twilio's own validator (or with a given signature)."""
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN

    def post(name_or_path: str, params: dict, signature: str | None = None, query: str = ""):
        from django.urls import reverse

        path = (name_or_path if name_or_path.startswith("/") else reverse(name_or_path)) + query
        url = settings.PEDSDESK_BASE_URL.rstrip("/") + path
        if signature is None:
            signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
        return client.post(path, params, **headers)

    return post


def inbound_params(body: str, sid: str | None = None, sender: str = "+15125550142", to: str = FROM_NUMBER) -> dict:
    return {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": sender, "To": to,
            "Body": body, "NumMedia": "0"}


def sent_bodies(outbox_dir, channel: str = "sms") -> list[dict]:
    path = outbox_dir / f"{channel}.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "FROM_NUMBER", "inbound_params", "sent_bodies", "settings"]

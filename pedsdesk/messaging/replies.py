"""Texts from families: keywords, normalisation, and the registry of workflows that wait
for a reply.

Later issues register handlers (confirm a visit, accept an offer)::

    register_reply_handler("confirm_visit", confirm_visit_from_reply)
    await_reply(guardian=g, handler="confirm_visit", about=appointment, until=start)

A handler gets a ``Reply`` and returns True when it used it; an unused reply becomes a
front-desk task with the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

STOP_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit"}
START_WORDS = {"start", "unstop"}
HELP_WORDS = {"help", "info", "ayuda"}
YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "ya", "si", "ok", "okay", "k", "confirm", "confirmed", "confirmo",
             "sure", "claro", "1"}
NO_WORDS = {"no", "n", "nope", "nah", "2"}


def normalize(text: str) -> str:
    """Lower case, accents off ("sí" → "si"), punctuation and emoji to spaces, one space between words."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def keyword_of(text: str) -> str | None:
    """'stop', 'start' or 'help' when the text is that keyword, give or take case, punctuation
    and a few words ("Stop please", "STOP!", "stop."); else None."""
    words = normalize(text).split()
    if not words:
        return None
    # The first word decides; a very short text counts a keyword anywhere ("please stop").
    candidates = words if len(words) <= 3 else words[:1]
    for group, name in ((STOP_WORDS, "stop"), (START_WORDS, "start"), (HELP_WORDS, "help")):
        if words[0] in group:
            return name
    for group, name in ((STOP_WORDS, "stop"), (START_WORDS, "start"), (HELP_WORDS, "help")):
        if any(w in group for w in candidates):
            return name
    return None


def intent_of(text: str) -> str | None:
    """'yes' or 'no' for replies like "yes!", "Si", "sí", "OK 👍", "nope"; else None."""
    words = normalize(text).split()
    if not words:
        return None
    if words[0] in YES_WORDS:
        return "yes"
    if words[0] in NO_WORDS:
        return "no"
    return None


@dataclass(frozen=True)
class Reply:
    """What a handler receives."""

    text: str
    normalized: str
    intent: str | None
    guardian: Any
    inbound: Any
    wait: Any

    @property
    def about(self):
        return self.wait.about if self.wait is not None else None


ReplyHandler = Callable[[Reply], bool]
_HANDLERS: dict[str, ReplyHandler] = {}


def register_reply_handler(name: str, function: ReplyHandler) -> ReplyHandler:
    """Register ``function`` under ``name`` (call it from your app's ready() or tasks module)."""
    _HANDLERS[name] = function
    return function


def handler_for(name: str) -> ReplyHandler:
    try:
        return _HANDLERS[name]
    except KeyError:
        raise ValueError(f"no reply handler named {name!r}; register_reply_handler() it first") from None

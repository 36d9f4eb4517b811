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

# Opt-out words (CTIA's list and the FCC's 2024 TCPA order, which names revoke and opt out),
# in English and Spanish, read anywhere in the text; "cancel" and "end" also name visits, so
# in a longer text they count only next to words about texting.
STOP_WORDS = {"stop", "stopall", "unsubscribe", "revoke", "optout", "quit", "alto", "baja", "parar", "paren",
              "desuscribir", "desuscribirme"}
SHORT_STOP_WORDS = {"cancel", "cancelar", "end"}
STOP_PHRASES = ["no mas mensajes", "no mas textos", "dont text", "do not text",
                "dont message", "do not message", "dejen de", "deje de", "no me manden", "no me envien",
                "no quiero mensajes", "no quiero recibir", "dar de baja", "take me off", "remove me"]
TEXTING_WORDS = {"text", "texts", "texting", "message", "messages", "messaging", "sms", "these", "this", "that",
                 "mensajes", "mensaje", "textos", "texto", "esto", "estos", "it", "all", "me"}
# "No more" alone may mean stop, but not "no more than two" or "no más tarde de las 5".
NO_MORE = {"no more", "no mas"}
NO_MORE_NOT_STOP = {"than", "tarde", "temprano", "que", "de", "del", "of", "then", "late", "early", "later"}
# A stop word right after one of these plainly does not ask to stop texts ("don't stop the visits").
NEGATIONS = {"dont", "don", "do not", "not", "never", "no", "nunca", "wont", "didnt", "doesnt"}
# Phrasal verbs that are about visits, not texts ("can we stop by Wednesday").
NOT_STOP = {"stop by", "stop in", "stop at", "stop over"}
START_WORDS = {"start", "unstop"}
HELP_WORDS = {"help", "info", "ayuda"}
YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "ya", "si", "ok", "okay", "k", "confirm", "confirmed", "confirmo",
             "sure", "claro", "1"}
NO_WORDS = {"no", "n", "nope", "nah", "2"}


def normalize(text: str) -> str:
    """Lower case, accents off ("sí" → "si"), punctuation and emoji to spaces, one space between words.
    Apostrophes close up ("don't" → "dont")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = re.sub(r"['’`]", "", plain)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def _negated(words: list[str], i: int) -> bool:
    before = words[max(0, i - 2):i]
    return bool(before) and (before[-1] in NEGATIONS or " ".join(before) in NEGATIONS)


def stop_reading(text: str) -> str | None:
    """How a text reads as an opt-out: "stop" when it is one or may be one (the number is opted
    out), "unclear" when it names stopping but plainly not of texts (a person reads it), None
    when it says nothing about stopping."""
    words = normalize(text).split()
    if not words:
        return None
    joined = f" {' '.join(words)} "
    if any(f" {phrase} " in joined for phrase in STOP_PHRASES):
        return "stop"
    mentions = negated = 0
    for i, word in enumerate(words):
        pair = " ".join(words[i:i + 2])
        if pair in NO_MORE and (i + 2 >= len(words) or words[i + 2] not in NO_MORE_NOT_STOP):
            return "stop"
        short = word in SHORT_STOP_WORDS and (
            len(words) <= 3 or i == 0 or any(w in TEXTING_WORDS for w in words[i + 1:i + 3]))
        if (word in STOP_WORDS or short or pair == "opt out") and pair not in NOT_STOP:
            mentions += 1
            negated += _negated(words, i)
    if not mentions:
        return None
    return "unclear" if negated == mentions else "stop"


def keyword_of(text: str) -> str | None:
    """'stop' (or 'unclear', see ``stop_reading``), 'start' or 'help' for a keyword text, give or
    take case, punctuation and a few words ("Stop please", "STOP!", "Please stop texting me");
    else None. Opt-outs are read in the whole text, START and HELP in a short one."""
    if reading := stop_reading(text):
        return reading
    words = normalize(text).split()
    if not words:
        return None
    candidates = words if len(words) <= 3 else words[:1]
    for group, name in ((START_WORDS, "start"), (HELP_WORDS, "help")):
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

"""Weekly windows families give ("Mon 15:30-18:00; Wed 15:30-18:00"), without Django."""

import re

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_PART = re.compile(r"^(?P<day>[a-z]{3})[a-z]*\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")


class WindowError(ValueError):
    pass


def _hhmm(text: str) -> str:
    hours, minutes = (int(x) for x in text.split(":"))
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise WindowError(f"{text} is not a time of day; use 24-hour times like 15:30.")
    return f"{hours:02d}:{minutes:02d}"


def parse_windows(text: str) -> list[dict]:
    """'Mon 15:30-18:00; Wed 9:00-11:30' -> [{"weekday": 0, "start": "15:30", "end": "18:00"}, …]."""
    windows = []
    for part in filter(None, (p.strip().lower() for p in re.split(r"[;\n]", text or ""))):
        match = _PART.match(part)
        if not match or match["day"] not in DAYS:
            raise WindowError(
                f"“{part}” is not a window; write a weekday and two times, like “Mon 15:30-18:00”, "
                "and separate windows with semicolons."
            )
        start, end = _hhmm(match["start"]), _hhmm(match["end"])
        if end <= start:
            raise WindowError(f"“{part}” ends before it starts.")
        windows.append({"weekday": DAYS.index(match["day"]), "start": start, "end": end})
    return windows


def format_windows(windows: list[dict]) -> str:
    return "; ".join(f"{DAYS[w['weekday']].capitalize()} {w['start']}-{w['end']}" for w in windows)

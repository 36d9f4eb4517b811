"""Per-practice values a process reads once a minute instead of once a row.

A day grid's visits, an hour's reminders and a sweep's rows each know their practice
only by id; reading the practice's zone or messaging policy for each would cost a
query a row. A memo keeps each value for a minute in this process; saving the row it
came from clears it here at once (other processes see the change within the minute).
"""

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_MEMOS: list["PracticeMemo"] = []


class PracticeMemo(Generic[T]):
    def __init__(self, load: Callable[[int], T], seconds: float = 60.0) -> None:
        self.load, self.seconds = load, seconds
        self._values: dict[int, tuple[float, T]] = {}
        _MEMOS.append(self)

    def get(self, practice_id: int) -> T:
        now = time.monotonic()
        hit = self._values.get(practice_id)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        value = self.load(practice_id)
        self._values[practice_id] = (now, value)
        return value

    def put(self, practice_id: int, value: T) -> None:
        self._values[practice_id] = (time.monotonic(), value)

    def forget(self, practice_id: int | None = None) -> None:
        if practice_id is None:
            self._values.clear()
        else:
            self._values.pop(practice_id, None)


def forget_all() -> None:
    """Clear every memo (tests, between databases)."""
    for memo in _MEMOS:
        memo.forget()

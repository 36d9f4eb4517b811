"""Counting failures per key in the cache, for login and family-link throttling."""

from django.core.cache import cache


class Throttle:
    def __init__(self, name: str, limit: int, window_seconds: int):
        self.name, self.limit, self.window = name, limit, window_seconds

    def _key(self, key: str) -> str:
        return f"throttle:{self.name}:{key.lower()}"

    def blocked(self, key: str) -> bool:
        return cache.get(self._key(key), 0) >= self.limit

    def fail(self, key: str) -> int:
        k = self._key(key)
        cache.add(k, 0, self.window)
        try:
            return cache.incr(k)
        except ValueError:  # expired between add and incr
            cache.set(k, 1, self.window)
            return 1

    def reset(self, key: str) -> None:
        cache.delete(self._key(key))

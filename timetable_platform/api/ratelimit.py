"""Per-key rate limiting with GCRA (a smooth token bucket): ``limit`` requests per minute, with a
burst of up to ``limit`` after idle time. Redis holds the state when configured, so every API
replica shares one budget per key; otherwise it lives in this process's memory."""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds until one request would be allowed (0 when allowed)
    remaining: int


class RateLimiter(Protocol):
    def hit(self, key: str) -> Decision: ...

    def peek(self, key: str) -> Decision:
        """Whether a hit would be allowed now, without spending anything."""
        ...

    def ping(self) -> bool: ...


def _gcra(tat: float, now: float, interval: float, burst: int) -> tuple[bool, float, float, int]:
    """One GCRA step: (allowed, new theoretical arrival time, retry_after, remaining)."""
    tat = max(tat, now)
    allow_at = tat - interval * burst + interval
    if now < allow_at:
        remaining = 0
        return False, tat, allow_at - now, remaining
    new_tat = tat + interval
    remaining = max(0, math.floor((now - (new_tat - interval * burst)) / interval))
    return True, new_tat, 0.0, remaining


class MemoryRateLimiter:
    def __init__(self, per_minute: int, clock: callable = time.monotonic) -> None:  # type: ignore[valid-type]
        self.interval = 60.0 / per_minute
        self.burst = per_minute
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> Decision:
        with self._lock:
            now = self._clock()
            allowed, tat, retry_after, remaining = _gcra(
                self._tat.get(key, now), now, self.interval, self.burst
            )
            self._tat[key] = tat
            if len(self._tat) > 100_000:  # forget keys whose budget is full again
                self._tat = {k: v for k, v in self._tat.items() if v > now}
        return Decision(allowed, retry_after, remaining)

    def peek(self, key: str) -> Decision:
        with self._lock:
            now = self._clock()
            allowed, _, retry_after, remaining = _gcra(self._tat.get(key, now), now, self.interval, self.burst)
        return Decision(allowed, retry_after, remaining)

    def ping(self) -> bool:
        return True


# KEYS[1] = state key; ARGV = interval (s), burst. Uses the Redis server's clock so replicas agree.
# The shared head: refuse (with the wait) when the bucket is empty.
_GCRA_HEAD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - interval * burst + interval
if now < allow_at then
  return {0, tostring(allow_at - now), 0}
end
"""
_GCRA_LUA = _GCRA_HEAD + """
local new_tat = tat + interval
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return {1, '0', math.floor((now - (new_tat - interval * burst)) / interval)}
"""
# The same step without the SET: would a request be allowed now?
_GCRA_PEEK_LUA = _GCRA_HEAD + """
return {1, '0', 0}
"""


class RedisRateLimiter:
    """Shared across replicas; if Redis is unreachable, requests are let through (and logged)
    rather than failing: the limit protects capacity, it is not an authorisation check."""

    def __init__(self, url: str, per_minute: int, prefix: str = "timetable:ratelimit:") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.interval = 60.0 / per_minute
        self.burst = per_minute
        self.prefix = prefix
        self._script = self.client.register_script(_GCRA_LUA)
        self._peek_script = self.client.register_script(_GCRA_PEEK_LUA)

    def hit(self, key: str) -> Decision:
        import redis

        try:
            allowed, retry_after, remaining = self._script(
                keys=[self.prefix + key], args=[self.interval, self.burst]
            )
        except redis.RedisError as exc:
            log.warning("rate limiter unavailable, letting request through: %s", exc)
            return Decision(True, 0.0, self.burst)
        return Decision(bool(int(allowed)), float(retry_after), int(remaining))

    def peek(self, key: str) -> Decision:
        import redis

        try:
            allowed, retry_after, remaining = self._peek_script(
                keys=[self.prefix + key], args=[self.interval, self.burst]
            )
        except redis.RedisError as exc:
            log.warning("rate limiter unavailable, letting request through: %s", exc)
            return Decision(True, 0.0, self.burst)
        return Decision(bool(int(allowed)), float(retry_after), int(remaining))

    def ping(self) -> bool:
        import redis

        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False


def build_rate_limiter(
    redis_url: str | None, per_minute: int, *, prefix: str = "timetable:ratelimit:"
) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(redis_url, per_minute, prefix=prefix)
    return MemoryRateLimiter(per_minute)

"""Wrong PINs and passwords slow the guesser down; they never lock a named person out (in memory).

Three counters of recent failures, each with a growing delay (``first_delay`` doubled per failure
beyond the free ones, up to ``max_delay``), counted from that counter's own last failure:

- the (name, address) pair: the guesser's own tries at one name;
- the address: one client trying many names;
- the name from every address: small and capped (``account_max_delay``), and only for addresses
  that have themselves failed at that name. So the real cashier at another till, or at this one
  after the delay, always gets her PIN checked: nobody anonymous can keep her out.

A counter is forgotten after ``forget_after`` quiet seconds; a right PIN forgets its pair and halves
the counts of its address and its name (the cashiers of one till share its address and its typos).
Kept in memory: a restart forgets it (an attacker cannot restart the service), and a second central
worker counts on its own.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pos_referral.config import SignInSection

MAX_KEYS = 50_000


@dataclass(frozen=True)
class ThrottlePolicy:
    free_attempts: int = 3
    free_attempts_per_address: int = 10
    first_delay: float = 1.0
    max_delay: float = 900.0
    account_max_delay: float = 30.0

    @classmethod
    def from_config(cls, section: SignInSection) -> ThrottlePolicy:
        return cls(section.free_attempts, section.free_attempts_per_address, section.first_delay_seconds,
                   section.max_delay_seconds, section.account_max_delay_seconds)

    @property
    def forget_after(self) -> float:
        return max(3600.0, 2 * self.max_delay)

    def delay(self, failures: int, free: int, cap: float) -> float:
        if failures < free:
            return 0.0
        return min(cap, self.first_delay * 2.0 ** min(failures - free, 40))


@dataclass
class _Count:
    failures: int
    last: float


def client_key(address: str | None) -> str:
    """An IPv6 client is counted by its /64 (one home or shop network), an IPv4 one by its address."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return str(address or "?")[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class SignInThrottle:
    def __init__(self, policy: ThrottlePolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._counts: dict[tuple[str, ...], _Count] = {}
        self._lock = threading.Lock()

    def _get(self, key: tuple[str, ...], now: float) -> _Count | None:
        found = self._counts.get(key)
        if found is not None and now - found.last > self.policy.forget_after:
            del self._counts[key]
            return None
        return found

    def wait(self, name: str, address: str | None) -> int:
        """Seconds before a try at ``name`` from ``address`` will be checked; 0 = check it now."""
        p, now, name, addr = self.policy, self._clock(), name.strip().casefold(), client_key(address)
        with self._lock:
            pair, by_address = self._get(("pair", name, addr), now), self._get(("addr", addr), now)
            account = self._get(("name", name), now)
            worst = 0.0
            if pair is not None:
                own = p.delay(pair.failures, p.free_attempts, p.max_delay)
                others = 0.0 if account is None else p.delay(account.failures, p.free_attempts_per_address,
                                                              p.account_max_delay)
                worst = max(own, others) - (now - pair.last)
            if by_address is not None:
                own = p.delay(by_address.failures, p.free_attempts_per_address, p.max_delay)
                worst = max(worst, own - (now - by_address.last))
        return math.ceil(worst) if worst > 0 else 0

    def failed(self, name: str, address: str | None) -> None:
        now, name, addr = self._clock(), name.strip().casefold(), client_key(address)
        with self._lock:
            for key in (("pair", name, addr), ("addr", addr), ("name", name)):
                count = self._get(key, now)
                if count is None:
                    self._counts[key] = _Count(1, now)
                else:
                    count.failures, count.last = count.failures + 1, now
            if len(self._counts) > MAX_KEYS:
                self._forget(now)

    def succeeded(self, name: str, address: str | None) -> None:
        """A right PIN forgets its pair and halves the counts of its address and name (a shared till's
        typos, and one person's over a day, must not add up to a delay)."""
        name, addr = name.strip().casefold(), client_key(address)
        with self._lock:
            self._counts.pop(("pair", name, addr), None)
            for key in (("addr", addr), ("name", name)):
                count = self._counts.get(key)
                if count is not None:
                    count.failures //= 2

    def _forget(self, now: float) -> None:
        """Drop quiet counters; if a flood of addresses still fills memory, the oldest half goes."""
        for key in [k for k, c in self._counts.items() if now - c.last > self.policy.forget_after]:
            del self._counts[key]
        if len(self._counts) > MAX_KEYS:
            oldest = sorted(self._counts.items(), key=lambda item: item[1].last)[: len(self._counts) // 2]
            for key, _count in oldest:
                del self._counts[key]

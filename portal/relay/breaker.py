"""A circuit breaker per outside system: after ``threshold`` transient failures in a row the
relay stops calling it for a cool-down (doubling up to ``max_cooldown``), then lets one
batch through as a trial; a success closes it again."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Breaker:
    threshold: int = 5
    base_cooldown: float = 1.0
    max_cooldown: float = 30.0
    failures: int = 0
    opened: int = 0  # how many times in a row it opened: the cool-down doubles
    open_until: float = 0.0
    clock: Callable[[], float] = time.monotonic

    @property
    def state(self) -> str:
        if self.failures < self.threshold:
            return "closed"
        return "open" if self.clock() < self.open_until else "half_open"

    def allows(self) -> bool:
        return self.state != "open"

    def success(self) -> bool:
        """Records a success; True when this closed an open breaker (the target is back)."""
        recovered = self.failures >= self.threshold
        self.failures, self.opened = 0, 0
        return recovered

    def failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold and self.clock() >= self.open_until:
            cooldown = min(self.base_cooldown * 2**self.opened, self.max_cooldown)
            self.opened += 1
            self.open_until = self.clock() + cooldown

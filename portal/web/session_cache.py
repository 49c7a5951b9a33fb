"""A process's memory of session rows it read lately, so a signed-in page need not read its
session from the database each time (docs/performance.md, "Tenth round").

Only safe while every change to a session or its person reaches this process at once: the
database says so (``portal.web.session_changes`` listens), and the cache holds nothing while
no listener is connected. A read that began before a change must not put the old row back,
so ``put`` takes the ``generation`` read before the row was: any change since, anywhere,
refuses it. Entries also expire after ``seconds``, a bound on staleness should a change ever
go unheard while the listener still looks connected.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any


class SessionCache:
    def __init__(
        self, seconds: float, entries: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.entries = entries
        self.monotonic = monotonic
        self.generation = 0
        self._listeners = 0
        # token hash → (the row, the data version it was read for, its person, expiry)
        self._rows: OrderedDict[str, tuple[Sequence[Any], int, int | None, float]] = OrderedDict()
        self._by_person: dict[int, set[str]] = {}
        # One app may run on several event loops at once (tests, each in its own thread).
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether the settings let it keep anything at all."""
        return self.seconds > 0 and self.entries > 0

    @property
    def live(self) -> bool:
        return self._listeners > 0 and self.enabled

    def get(self, token_hash: str, version: int) -> Sequence[Any] | None:
        """The row as last read for this version of the data, or None (not held, another
        version, expired, or no listener)."""
        found = self._rows.get(token_hash)
        if found is None:
            return None
        row, read_for, _person, expires = found
        if expires <= self.monotonic():
            with self._lock:  # old, not changed: reads under way may still keep theirs
                self._drop(token_hash)
            return None
        return row if read_for == version else None

    def put(
        self,
        token_hash: str,
        version: int,
        row: Sequence[Any],
        person_id: int | None,
        generation: int,
    ) -> bool:
        """Hold ``row``, read for ``version`` after ``generation`` was taken, unless anything
        changed since."""
        with self._lock:
            if not self.live or generation != self.generation:
                return False
            self._drop(token_hash)
            self._rows[token_hash] = (row, version, person_id, self.monotonic() + self.seconds)
            if person_id is not None:
                self._by_person.setdefault(person_id, set()).add(token_hash)
            while len(self._rows) > self.entries:
                self._drop(next(iter(self._rows)))
            return True

    def forget(self, token_hash: str) -> None:
        with self._lock:
            self.generation += 1
            self._drop(token_hash)

    def forget_person(self, person_id: int) -> None:
        with self._lock:
            self.generation += 1
            for token_hash in self._by_person.pop(person_id, ()):
                self._rows.pop(token_hash, None)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._rows.clear()
            self._by_person.clear()

    def listening(self) -> None:
        """A listener is now connected: what was held before may have missed changes."""
        self.clear()
        with self._lock:
            self._listeners += 1

    def deaf(self) -> None:
        """A listener lost its connection or stopped: hold nothing until one is back."""
        with self._lock:
            self._listeners = max(0, self._listeners - 1)
        self.clear()

    def __len__(self) -> int:
        return len(self._rows)

    def _drop(self, token_hash: str) -> None:
        found = self._rows.pop(token_hash, None)
        person = None if found is None else found[2]
        if person is not None:
            tokens = self._by_person.get(person)
            if tokens is not None:
                tokens.discard(token_hash)
                if not tokens:
                    del self._by_person[person]

"""What a process read from the database lately, kept so a page need not read it again: each
value under its key, forgotten when the database says one of its tags changed
(``portal.web.db_changes`` listens; docs/performance.md, "Tenth round" and "Eleventh round").

Only safe while every change reaches this process at once, so nothing is kept while no
listener hears the database. A read that began before a change must not put the old value
back: ``put`` takes the ``generation`` read before the value was, and is refused if one of the
value's tags (or everything) changed since. Values also expire after ``seconds``, a bound on
staleness should a change ever go unheard while the listener still looks connected.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

V = TypeVar("V")

# Changes remembered by tag, for refusing the puts of reads under way. A read older than the
# oldest one remembered is refused whatever its tags: that takes this many changes during
# one read.
CHANGES_REMEMBERED = 4096


class KeptRows(Generic[V]):
    def __init__(
        self, seconds: float, entries: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.entries = entries
        self.monotonic = monotonic
        self.generation = 0
        self._listeners = 0
        self._values: OrderedDict[Hashable, tuple[V, tuple[Hashable, ...], float]] = OrderedDict()
        self._by_tag: dict[Hashable, set[Hashable]] = {}
        self._changed: OrderedDict[Hashable, int] = OrderedDict()  # tag → generation it changed
        self._refuse_before = 0  # reads begun before this generation are not kept
        # One app may run on several event loops at once (tests, each in its own thread).
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether the settings let it keep anything at all."""
        return self.seconds > 0 and self.entries > 0

    @property
    def live(self) -> bool:
        return self._listeners > 0 and self.enabled

    def get(self, key: Hashable) -> V | None:
        found = self._values.get(key)
        if found is None:
            return None
        value, _tags, expires = found
        if expires <= self.monotonic():
            with self._lock:  # old, not changed: reads under way may still keep theirs
                self._drop(key)
            return None
        return value

    def put(self, key: Hashable, value: V, tags: Iterable[Hashable], generation: int) -> bool:
        """Keep ``value``, read after ``generation`` was taken, unless the key, one of
        ``tags`` or everything changed since."""
        tags = (key, *tags)
        with self._lock:
            if not self.live or generation < self._refuse_before:
                return False
            if any(self._changed.get(tag, -1) > generation for tag in tags):
                return False
            self._drop(key)
            self._values[key] = (value, tags, self.monotonic() + self.seconds)
            for tag in tags[1:]:
                self._by_tag.setdefault(tag, set()).add(key)
            while len(self._values) > self.entries:
                self._drop(next(iter(self._values)))
            return True

    def forget(self, tag: Hashable) -> None:
        """``tag`` changed: forget every value under it (a key is its own value's tag)."""
        with self._lock:
            self.generation += 1
            self._changed[tag] = self.generation
            self._changed.move_to_end(tag)
            if len(self._changed) > CHANGES_REMEMBERED:
                _oldest, when = self._changed.popitem(last=False)
                self._refuse_before = max(self._refuse_before, when)
            self._drop(tag)
            for key in self._by_tag.pop(tag, ()):
                self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._refuse_before = self.generation
            self._changed.clear()
            self._values.clear()
            self._by_tag.clear()

    def listening(self) -> None:
        """A listener is now connected: what was kept before may have missed changes."""
        self.clear()
        with self._lock:
            self._listeners += 1

    def deaf(self) -> None:
        """A listener lost its connection or stopped: keep nothing until one is back."""
        with self._lock:
            self._listeners = max(0, self._listeners - 1)
        self.clear()

    def __len__(self) -> int:
        return len(self._values)

    def _drop(self, key: Hashable) -> None:
        found = self._values.pop(key, None)
        if found is None:
            return
        for tag in found[1][1:]:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]

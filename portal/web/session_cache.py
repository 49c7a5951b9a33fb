"""A process's memory of session rows it read lately, so a signed-in page need not read its
session from the database each time (docs/performance.md, "Tenth round"): ``KeptRows`` under
the token's hash, forgotten when the session or its person changes, and serving only the
version of the session's data it was read for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from portal.web.kept_rows import KeptRows


class SessionCache(KeptRows[tuple[Sequence[Any], int]]):
    def row(self, token_hash: str, version: int) -> Sequence[Any] | None:
        """The row as last read for this version of the data, or None (not held, another
        version, expired, or no listener)."""
        found = self.get(token_hash)
        if found is None:
            return None
        row, read_for = found
        return row if read_for == version else None

    def keep(
        self,
        token_hash: str,
        version: int,
        row: Sequence[Any],
        person_id: int | None,
        generation: int,
    ) -> bool:
        """Hold ``row``, read for ``version`` after ``generation`` was taken, unless the
        session or its person changed since."""
        tags = () if person_id is None else (("person", person_id),)
        return self.put(token_hash, (row, version), tags, generation)

    def forget_person(self, person_id: int) -> None:
        self.forget(("person", person_id))

    def heard(self, kind: str, key: str) -> bool:
        """A change the database told of, if it is one of a session's (else False)."""
        if kind == "s" and key:
            self.forget(key)
        elif kind == "p" and key.isdigit():
            self.forget_person(int(key))
        else:
            return False
        return True

"""Which exceptions mean "the database cannot be reached just now" (down, restarting, a
connection cut, SQLite busy past its timeout) rather than a bug: pages answer those with
503 and the plain "try again later" page, not a 500; retrying later will work."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# asyncpg's own errors for a server that is shutting down, starting up or gone, by name:
# asyncpg is only installed where PostgreSQL is used.
UNAVAILABLE_NAMES = frozenset(
    {
        "AdminShutdownError",
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "CrashShutdownError",
        # "another operation (2) is in progress": an idle pooled connection received the
        # server's FATAL error (a restart, a terminated backend) and waits for a "ready" that
        # never comes, looking open until the end of the stream is read (tests/test_db.py).
        "InternalClientError",
        "InterfaceError",
        "PostgresConnectionError",
        "TooManyConnectionsError",
    }
)


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc``, or what caused it, says the database is out of reach."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unavailable(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _unavailable(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | ConnectionError):
        return True
    return type(exc).__name__ in UNAVAILABLE_NAMES and type(exc).__module__.startswith("asyncpg")

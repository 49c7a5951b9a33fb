"""Every setting of the portal, typed, read from ``PORTAL_*`` environment variables.

Each field's metadata holds its documentation; ``tests/test_settings.py`` checks that the
README documents every one of them, with its default.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'portal.sqlite3'}"


def _doc(text: str, **kwargs: Any) -> Any:
    return field(metadata={"doc": text}, **kwargs)


@dataclass(frozen=True)
class Settings:
    database_url: str = _doc(
        "SQLAlchemy async URL; SQLite file under var/ by default, "
        "`postgresql+asyncpg://…` for PostgreSQL",
        default=DEFAULT_DATABASE_URL,
    )
    base_url: str = _doc(
        "public URL of the portal (scheme decides Secure cookies and HSTS)",
        default="http://127.0.0.1:8000",
    )
    host: str = _doc("interface `portal run`/`serve` listen on", default="127.0.0.1")
    port: int = _doc("port `portal run`/`serve` listen on", default=8000)
    secret_key: str = _doc(
        "secret for signed tokens; required when PORTAL_DEMO is off",
        default="",
    )
    demo: bool = _doc("embedded demo mode: a missing secret key is generated", default=True)
    catalog_dir: Path = _doc(  # noqa: RUF009 (a Path is immutable: safe as a default)
        "directory holding things/ and reference/ YAML",
        default=PROJECT_ROOT / "portal" / "catalog",
    )
    default_locale: str = _doc("locale when nothing else decides", default="zh_Hans")
    session_idle_minutes: int = _doc("a session unused this long ends", default=30)
    session_max_hours: int = _doc("a session ends this long after sign-in", default=12)
    log_level: str = _doc("log level of the JSON logs on stderr", default="INFO")
    max_body_bytes: int = _doc(
        "largest form body read for the CSRF check (bigger ones are refused)",
        default=20 * 1024 * 1024,
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"PORTAL_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _cast(f.default, raw, f.name)
        values.update(overrides)
        settings = cls(**values)
        if not settings.secret_key:
            if not settings.demo:
                raise ValueError("PORTAL_SECRET_KEY is required when PORTAL_DEMO is off")
            # A fresh key per process would break multi-worker demos; keep one on disk.
            settings = cls(**{**values, "secret_key": _demo_secret()})
        return settings

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _cast(default: Any, raw: str, name: str) -> Any:
    if isinstance(default, bool):
        if raw.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise ValueError(f"PORTAL_{name.upper()}: expected a boolean, got {raw!r}")
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"PORTAL_{name.upper()}: expected an integer, got {raw!r}") from None
    if isinstance(default, Path):
        return Path(raw)
    return raw


def _demo_secret() -> str:
    path = PROJECT_ROOT / "var" / "demo-secret-key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def documented_settings() -> list[tuple[str, Any, str]]:
    """(environment variable, default, documentation) for every setting."""
    return [(f"PORTAL_{f.name.upper()}", f.default, f.metadata["doc"]) for f in fields(Settings)]

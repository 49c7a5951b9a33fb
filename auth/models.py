"""Tables of people, their WeChat bindings, enterprises, roles and agent authorisations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class Person(Base):
    """A natural person as the identity provider knows them (一人一档 starts here)."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(100))
    id_number_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    highest_level: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_sign_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WeChatBinding(Base):
    """A WeChat identity (openid) bound to a person after one unified-identity sign-in."""

    __tablename__ = "wechat_bindings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    appid: Mapped[str] = mapped_column(String(64))
    openid: Mapped[str] = mapped_column(String(128), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class EnterpriseRole(Base):
    """A person's role in an enterprise as the identity provider asserts it (法定代表人)."""

    __tablename__ = "enterprise_roles"
    __table_args__ = (UniqueConstraint("person_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40))
    asserted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgentAuthorization(Base):
    """经办人授权: a legal representative lets a named person act for the enterprise.

    The agent is named by name + ID number (stored as a keyed hash and encrypted); the row
    binds to the agent's account when they accept it. ``status`` is pending → active →
    ended; validity is also bounded by ``valid_until``, checked on every request.
    """

    __tablename__ = "agent_authorizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    agent_name: Mapped[str] = mapped_column(String(100))
    agent_id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    agent_id_number_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    agent_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    all_matters: Mapped[bool] = mapped_column(Boolean, default=True)
    thing_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # 证照权限: may see and use the enterprise's e-licenses (the wallet), off unless given.
    license_rights: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

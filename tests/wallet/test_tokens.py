"""Verification tokens are signed: any change is caught, the expiry is read back."""

from __future__ import annotations

from datetime import UTC, datetime

from integrations.licenses import check_identifier
from portal.wallet import tokens

SECRET = "test-secret"
WHEN = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
EXAMPLE = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"


def test_a_token_reads_back() -> None:
    token = tokens.sign(SECRET, "abc_DEF-123", WHEN)
    assert tokens.read(SECRET, token) == tokens.Signed("abc_DEF-123", WHEN)


def test_any_changed_character_is_tampering() -> None:
    token = tokens.sign(SECRET, tokens.new_token_id(), WHEN)
    for position, char in enumerate(token):
        if char == ".":
            continue
        changed = token[:position] + ("A" if char != "A" else "B") + token[position + 1 :]
        assert tokens.read(SECRET, changed) is None, changed


def test_another_key_or_a_malformed_token_is_refused() -> None:
    token = tokens.sign(SECRET, "abc", WHEN)
    assert tokens.read("other-secret", token) is None
    for broken in ("", "abc", "abc.def", "abc..sig", token + ".x", token.replace(".", "", 1)):
        assert tokens.read(SECRET, broken) is None


def test_the_identifier_of_the_issue_checks_and_corruptions_do_not() -> None:
    assert check_identifier(EXAMPLE)
    for changed in (
        EXAMPLE[:-1] + "G",  # the check character
        EXAMPLE.replace("2430599", "2430598"),  # the serial
        EXAMPLE.replace("W032", "W033"),  # the type code
        EXAMPLE.replace("541J", "541K"),  # the issuer
        EXAMPLE.replace(".001.", ".002."),  # the version
        EXAMPLE.replace("2430599", "2403599"),  # two digits swapped
    ):
        assert not check_identifier(changed), changed

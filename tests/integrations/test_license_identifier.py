"""GB/T 36904 identifiers: the check character covers type code, issuer, serial and version."""

from __future__ import annotations

import string

import pytest

from integrations.licenses.identifier import ROOT, check_identifier, make_identifier

EXAMPLE = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
ALPHABET = string.digits + string.ascii_uppercase


def test_the_worked_example_is_valid() -> None:
    assert check_identifier(EXAMPLE)
    assert make_identifier("11100000000013338W032", "11220000013544541J", "2430599", 1) == EXAMPLE
    assert make_identifier("11100000000013338W032", "11220000013544541J", "2430599", "001") == (
        EXAMPLE
    )


def test_any_changed_character_is_caught() -> None:
    """MOD 37,36 catches every single substitution, in any part and in the check itself."""
    start = len(ROOT) + 1
    for position in range(start, len(EXAMPLE)):
        if EXAMPLE[position] == ".":
            continue
        for replacement in ALPHABET.replace(EXAMPLE[position], "")[:5]:
            changed = EXAMPLE[:position] + replacement + EXAMPLE[position + 1 :]
            assert not check_identifier(changed), changed


def test_the_root_is_not_covered_by_the_check_but_must_be_there() -> None:
    assert not check_identifier(EXAMPLE.replace("1.2.156.3005.2.", "1.2.156.3005.3.", 1))
    assert not check_identifier(EXAMPLE.removeprefix("1.2.156.3005.2."))


@pytest.mark.parametrize(
    "broken",
    [
        EXAMPLE.lower(),
        EXAMPLE + ".F",
        EXAMPLE.replace(".001.", ".1."),  # the version has three digits
        EXAMPLE.replace(".2430599.", ".2430-599."),
        EXAMPLE.replace("W032", "W32"),  # a type code is 21 characters
        "",
    ],
)
def test_malformed_identifiers_are_invalid(broken: str) -> None:
    assert not check_identifier(broken)


def test_make_identifier_refuses_malformed_parts() -> None:
    with pytest.raises(ValueError, match="issuer_uscc"):
        make_identifier("11100000000013338W032", "1122000001354454", "1", 1)
    with pytest.raises(ValueError, match="version"):
        make_identifier("11100000000013338W032", "11220000013544541J", "1", 1000)


def test_versions_of_one_license_differ_in_their_check() -> None:
    first = make_identifier("11100000000013338W001", "11410700005493174W", "2400001", 1)
    second = make_identifier("11100000000013338W001", "11410700005493174W", "2400001", 2)

    assert (first[-5:], second[-5:]) == ("001.A", "002.8")
    assert check_identifier(first) and check_identifier(second)

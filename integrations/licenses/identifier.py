"""GB/T 36904 e-license identifiers (电子证照标识).

``1.2.156.3005.2.<type code>.<issuer USCC>.<serial>.<version>.<check>``: the fixed root
``1.2.156.3005.2`` (the e-license OID arc), the 21-character license type code, the issuing
authority's 18-character unified social credit code, the issuer's serial number, a
three-digit version and one ISO 7064 MOD 37,36 check character.

The check covers type code, issuer code, serial and version, concatenated without the dots;
the root is not part of it. The worked example from the brief settles this:
``1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F`` checks out only
that way (over the root as well the check would be ``W``).
"""

from __future__ import annotations

import re

from stdnum.iso7064 import mod_37_36

ROOT = "1.2.156.3005.2"
_TYPE_CODE = re.compile(r"^[0-9A-Z]{18}\d{3}$")
_ISSUER = re.compile(r"^[0-9A-Z]{18}$")
_SERIAL = re.compile(r"^[0-9A-Z]{1,32}$")
_VERSION = re.compile(r"^\d{3}$")


def check_character(type_code: str, issuer_uscc: str, serial: str, version: str) -> str:
    """The MOD 37,36 check character over the four variable parts."""
    return str(mod_37_36.calc_check_digit(type_code + issuer_uscc + serial + version))


def make_identifier(type_code: str, issuer_uscc: str, serial: str, version: int | str = 1) -> str:
    """The full identifier; ``version`` 1 and ``"001"`` are the same. Raises ``ValueError``
    when a part does not have the form the standard gives it."""
    version = f"{version:03d}" if isinstance(version, int) else version
    parts = {"type_code": (type_code, _TYPE_CODE), "issuer_uscc": (issuer_uscc, _ISSUER)}
    parts |= {"serial": (serial, _SERIAL), "version": (version, _VERSION)}
    for name, (value, pattern) in parts.items():
        if not pattern.match(value):
            raise ValueError(f"{name} {value!r} is not a GB/T 36904 {name}")
    check = check_character(type_code, issuer_uscc, serial, version)
    return ".".join((ROOT, type_code, issuer_uscc, serial, version, check))


def check_identifier(identifier: str) -> bool:
    """Whether ``identifier`` is well formed and its check character is right."""
    if not identifier.startswith(ROOT + "."):
        return False
    parts = identifier.removeprefix(ROOT + ".").split(".")
    if len(parts) != 5:
        return False
    type_code, issuer, serial, version, _check = parts
    try:
        return make_identifier(type_code, issuer, serial, version) == identifier
    except ValueError:
        return False

"""Maintenance of the message catalogs: ``python -m portal.i18n_tools hant``.

zh_Hant translations are the zh_Hans source converted with OpenCC; an entry someone has
corrected by hand (no ``#, opencc`` flag any more) is left alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from portal.i18n import TRANSLATIONS_DIR, traditional

OPENCC_FLAG = "opencc"


def fill_traditional(po_path: Path) -> int:
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hant")
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        machine = OPENCC_FLAG in message.flags
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if any(strings) and not machine:
            continue
        if isinstance(message.id, str):
            message.string = traditional(message.id)
        else:
            message.string = tuple(traditional(str(part)) for part in message.id)
        message.flags.add(OPENCC_FLAG)
        message.flags.discard("fuzzy")
        filled += 1
    with po_path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False)
    return filled


def main(argv: list[str]) -> int:
    if argv != ["hant"]:
        print("usage: python -m portal.i18n_tools hant", file=sys.stderr)
        return 2
    path = TRANSLATIONS_DIR / "zh_Hant" / "LC_MESSAGES" / "messages.po"
    print(f"{path}: {fill_traditional(path)} entries converted with OpenCC")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

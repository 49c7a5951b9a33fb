"""Every UI string is translated in every locale, with the same placeholders."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from portal.i18n import TRANSLATIONS_DIR

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.mark.parametrize("locale", ["zh_Hant", "en", "ug"])
def test_catalog_is_complete(locale: str) -> None:
    path = Path(TRANSLATIONS_DIR) / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh)
    with (Path(TRANSLATIONS_DIR) / "messages.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    assert template <= {m.id for m in catalog if m.id}, "run `make extract-messages`"
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{locale}: untranslated {ids[0]!r}"
        wanted = set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, f"{locale}: {ids[0]!r}"
        assert "fuzzy" not in message.flags, f"{locale}: fuzzy {ids[0]!r}"

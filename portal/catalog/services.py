"""The catalog as the pages need it: by audience and theme, most used, search, figures."""

from __future__ import annotations

from dataclasses import dataclass

from portal.catalog.effects import Effect, effect_of, total_effect
from portal.catalog.loader import Catalog
from portal.catalog.schema import Audience, Item, LicenseType, Material, OneThing, Theme
from portal.catalog.search import SearchHit, SearchIndex


@dataclass(frozen=True)
class ThemeGroup:
    theme: Theme
    things: list[OneThing]


class CatalogService:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.effects: dict[str, Effect] = {
            code: effect_of(thing) for code, thing in catalog.things.items()
        }
        self.total = total_effect(self.effects.values())
        self.index = SearchIndex(catalog)
        self._by_popularity = sorted(catalog.things.values(), key=lambda t: (-t.popularity, t.code))
        self._groups: dict[Audience, list[ThemeGroup]] = {}

    def get(self, code: str) -> OneThing | None:
        return self.catalog.things.get(code)

    def things(self, audience: Audience | None = None) -> list[OneThing]:
        return [t for t in self._by_popularity if audience is None or t.audience == audience]

    def most_used(self, audience: Audience, limit: int = 6) -> list[OneThing]:
        return self.things(audience)[:limit]

    def theme_groups(self, audience: Audience) -> list[ThemeGroup]:
        """The home page's groups: worked out once per audience (the catalog does not change
        while the process runs; every home page asked again)."""
        if audience not in self._groups:
            self._groups[audience] = self._theme_groups(audience)
        return self._groups[audience]

    def _theme_groups(self, audience: Audience) -> list[ThemeGroup]:
        groups = []
        for theme in self.catalog.themes.values():
            if theme.audience != audience:
                continue
            members = [t for t in self.things(audience) if t.theme == theme.key]
            if members:
                groups.append(ThemeGroup(theme, members))
        return groups

    def search(self, query: str, audience: Audience | None = None) -> list[SearchHit]:
        hits = self.index.search(query)
        return [h for h in hits if audience is None or h.thing.audience == audience]

    def departments_of(self, thing: OneThing) -> list[str]:
        """Department keys: the lead first, then the others in order of first appearance."""
        keys = [thing.lead_department]
        for item in thing.items:
            for key in [item.department, *item.co_departments]:
                if key not in keys:
                    keys.append(key)
        return keys

    def materials_of(self, item: Item, thing: OneThing) -> list[Material]:
        by_key = {m.key: m for m in thing.materials}
        return [by_key[key] for key in item.materials]

    def license_type(self, key: str | None) -> LicenseType | None:
        return self.catalog.license_types.get(key) if key else None

    def total_fee(self, thing: OneThing) -> float:
        return sum(item.fee.amount_yuan for item in thing.items)

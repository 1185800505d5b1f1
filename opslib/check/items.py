"""The quality bar's checklist items as data: every item's text, by genre and id, read from
opslib/data/quality-bar.yaml; and the readiness review's items (opslib/data/readiness-items.yaml),
whose `checks` refer to those items as <key>.<id> (runbook.health, cost.limits, doc.placeholders).

    item_texts(genre)          -> Mapping[id, text]   a genre's items (read when first used)
    item_text(genre, id)       -> str
    item_keys()                -> dict[key, genre]    runbook → service-runbook, cost → cost-plan, …
    readiness_checks()         -> dict[key, Mapping]  the items readiness-items.yaml may refer to
    readiness_items()          -> tuple[dict, ...]    the readiness review's items, every reference checked
    not_a_procedure(reason)    -> list[Finding]       the procedure items, n/a for a record of past events
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache

from opslib.catalog.loaders import DATA_DIR
from opslib.check.findings import Finding
from opslib.core.yamlio import read_yaml
from opslib.errors import CatalogError

__all__ = ["CATALOG", "ItemTexts", "item_texts", "item_text", "item_keys", "genres", "readiness_checks", "readiness_items",
           "NOT_A_PROCEDURE", "not_a_procedure"]

CATALOG = DATA_DIR / "quality-bar.yaml"
READINESS = DATA_DIR / "readiness-items.yaml"
# the documentation items a record of past events (a deployment report, a readiness review, a
# cost report) cannot be held to: it has no procedure to follow
NOT_A_PROCEDURE = ("commands", "outputs", "durations", "prerequisites", "environments")


@cache
def _catalog() -> dict[str, dict]:
    raw = read_yaml(CATALOG, lines=False)
    where = "opslib/data/quality-bar.yaml"
    if not isinstance(raw, dict) or not isinstance(raw.get("genres"), dict):
        raise CatalogError(f"{where}: no genres: mapping; restore the file from the package.")
    out = {}
    for genre, spec in raw["genres"].items():
        items = spec.get("items") if isinstance(spec, dict) else None
        if not isinstance(items, dict) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in items.items()):
            raise CatalogError(f"{where}: genres.{genre}.items must map each item id to its text; fix the entry.")
        out[genre] = {"key": spec.get("key"), "items": dict(items)}
    return out


def genres() -> tuple[str, ...]:
    """The genres the catalog has items for."""
    return tuple(_catalog())


class ItemTexts(Mapping[str, str]):
    """A genre's item texts by id, read from the catalog when first used (importing a checker
    reads no file)."""

    def __init__(self, genre: str):
        self.genre = genre

    def _items(self) -> dict[str, str]:
        try:
            return _catalog()[self.genre]["items"]
        except KeyError:
            raise CatalogError(f"opslib/data/quality-bar.yaml has no genre {self.genre!r}; add it under genres:.") from None

    def __getitem__(self, key: str) -> str:
        try:
            return self._items()[key]
        except KeyError:
            raise KeyError(f"opslib/data/quality-bar.yaml has no item {self.genre}.{key}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return f"ItemTexts({self.genre!r})"


def item_texts(genre: str) -> ItemTexts:
    return ItemTexts(genre)


def item_text(genre: str, key: str) -> str:
    return ItemTexts(genre)[key]


def item_keys() -> dict[str, str]:
    """The key readiness-items.yaml uses for each genre's items (runbook → service-runbook)."""
    return {spec["key"]: genre for genre, spec in _catalog().items() if spec["key"]}


def readiness_checks() -> dict[str, ItemTexts]:
    """key → the item texts a readiness item may refer to as <key>.<id>."""
    return {key: ItemTexts(genre) for key, genre in item_keys().items()}


@cache
def readiness_items() -> tuple[dict, ...]:
    """The readiness review's items; a reference to an item the catalog lacks is a CatalogError."""
    raw = read_yaml(READINESS)
    names = readiness_checks()
    for it in raw["items"]:
        for ref in it.get("checks", []):
            mod, _, key = ref.partition(".")
            if key not in names.get(mod, {}):
                raise CatalogError(f"opslib/data/readiness-items.yaml: item {it['id']} refers to unknown check {ref}; fix the entry.")
    return tuple(raw["items"])


def not_a_procedure(reason: str) -> list[Finding]:
    """The documentation items a record of past events cannot be held to, each n/a with `reason`."""
    texts = ItemTexts("documentation")
    return [Finding(texts[key], "n/a", reason, None, "documentation") for key in NOT_A_PROCEDURE]

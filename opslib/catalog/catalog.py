"""The catalogs one project sees: the shipped ones (opslib/data) and the project's own folders.

    open_catalog(folders=())  -> Catalog   cached per folder set; folders in the parameters'
                                           `catalogs:` order, a later folder winning
    catalog.platform_names()  -> names     every platform of every folder
    catalog.platform(name)    -> Platform  the folder (opslib/catalog/platforms.py), validated
    catalog.troubleshooting(name)          the platform's entries, the shared ones, the project's
    catalog.prices / secret_kinds          pricing.csv and secret-kinds.yaml, merged by id
    catalog.datastore_services() / migration_tools() / decision_tree() / alert_definitions()

A catalog folder of a project looks like opslib/data:

    platforms/<name>/        a platform folder; a shipped platform of the same name is replaced
    troubleshooting.yaml     entries for every platform; an entry with a shipped id replaces it
    pricing.csv              prices (columns of opslib/data/pricing.csv); a shipped id is replaced
    secret-kinds.yaml        secret kinds; a shipped kind of the same name is replaced

Anything else in the folder is refused (nothing is dropped silently).
"""

from __future__ import annotations

from functools import cache, cached_property
from pathlib import Path
from typing import Any

from opslib.catalog.loaders import (
    DATA_DIR,
    AlertDefinition,
    AlertGuide,
    DatastoreService,
    DecisionNode,
    MigrationTool,
    SecretKind,
    SecretKindsFile,
    TroubleshootingEntry,
    TroubleshootingFile,
    alert_definitions,
    catalog_error,
    datastore_services,
    load_alert_guides,
    load_decision_tree,
    load_file,
    migration_tools,
    shared_troubleshooting,
    validate_file,
)
from opslib.catalog.loaders import (
    clear_caches as clear_loader_caches,
)
from opslib.catalog.platforms import Platform, display_path, load_platform_folder
from opslib.catalog.pricing import Price, read_catalog, shipped_catalog
from opslib.errors import CatalogError

__all__ = ["Catalog", "FOLDER_ENTRIES", "open_catalog", "platform_names", "load_platform", "clear_caches"]

# what a project's catalog folder may hold (README and other .md files are ignored)
FOLDER_ENTRIES = ("platforms/", "troubleshooting.yaml", "pricing.csv", "secret-kinds.yaml")


def _platform_dirs(root: Path) -> tuple[dict[str, Path], list[str]]:
    found: dict[str, Path] = {}
    problems: list[str] = []
    base = root / "platforms"
    if not base.is_dir():
        return found, problems
    for path in sorted(base.iterdir()):
        if path.is_dir() and not path.name.startswith((".", "_")):
            found[path.name] = path
        elif path.suffix in (".yaml", ".yml"):
            problems.append(f"platforms/{path.name}: a platform is a folder: move it to platforms/{path.stem}/platform.yaml "
                            "and add the other files (opslib/data/platforms/README.md)")
    return found, problems


class Catalog:
    """The shipped catalogs plus a project's own folders (`folders`, lowest precedence first)."""

    def __init__(self, folders: tuple[Path, ...] = ()):
        self.folders = tuple(Path(f) for f in folders)
        problems = []
        for folder in self.folders:
            problems += [f"{folder}: {p}" for p in self._folder_problems(folder)]
        if problems:
            raise catalog_error("the project's catalogs", problems)

    def __repr__(self) -> str:
        return f"Catalog(folders={[str(f) for f in self.folders]})"

    @staticmethod
    def _folder_problems(folder: Path) -> list[str]:
        if not folder.is_dir():
            return ["not a folder; fix the path in catalogs: or create the folder"]
        out = []
        for path in sorted(folder.iterdir()):
            name = path.name + ("/" if path.is_dir() else "")
            if name not in FOLDER_ENTRIES and not path.name.startswith(".") and path.suffix != ".md":
                out.append(f"{name}: unknown entry (nothing reads it); a catalog folder holds {', '.join(FOLDER_ENTRIES)}")
        out += _platform_dirs(folder)[1]
        categories = {n.category for n in load_decision_tree()}
        trouble = folder / "troubleshooting.yaml"
        if trouble.is_file():
            obj, errs = validate_file(trouble, TroubleshootingFile, "troubleshooting.yaml")
            out += errs
            ids = [e.id for e in obj.entries] if obj else []
            out += [f"troubleshooting.yaml: entries: id {i!r} is used twice; give each entry its own id" for i in sorted({i for i in ids if ids.count(i) > 1})]
            out += [f"troubleshooting.yaml: entries: {e.id}: unknown category {e.category!r}; use one of {', '.join(sorted(categories))}"
                    for e in (obj.entries if obj else []) if e.category not in categories]
        kinds = folder / "secret-kinds.yaml"
        if kinds.is_file():
            out += validate_file(kinds, SecretKindsFile, "secret-kinds.yaml")[1]
        prices = folder / "pricing.csv"
        if prices.is_file():
            try:
                read_catalog(prices)
            except CatalogError as exc:
                out.append(f"pricing.csv: {exc}")
        return out

    # --- platforms ---------------------------------------------------------------------------

    @cached_property
    def platform_dirs(self) -> dict[str, Path]:
        """Platform name → its folder (a project's folder replaces a shipped one of the same name)."""
        found: dict[str, Path] = {}
        for root in (DATA_DIR, *self.folders):
            found.update(_platform_dirs(root)[0])
        return found

    def platform_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.platform_dirs))

    def platform(self, name: str) -> Platform:
        if name not in self.platform_dirs:
            where = ", ".join([display_path(DATA_DIR / "platforms")] + [str(f / "platforms") for f in self.folders])
            raise CatalogError(f"platform {name!r} is in no catalog ({where}); use one of: {', '.join(self.platform_names())}.")
        folder = self.platform_dirs[name]
        # the shipped platforms' templates are checked by the test suite, a project's at load
        return load_platform_folder(folder, check_templates=not folder.is_relative_to(DATA_DIR))

    # --- troubleshooting ---------------------------------------------------------------------

    @cached_property
    def _own_troubleshooting(self) -> tuple[TroubleshootingEntry, ...]:
        entries: dict[str, TroubleshootingEntry] = {}
        for folder in self.folders:
            path = folder / "troubleshooting.yaml"
            if path.is_file():
                entries.update({e.id: e for e in load_file(path, TroubleshootingFile).entries})
        return tuple(entries.values())

    def troubleshooting(self, name: str) -> tuple[TroubleshootingEntry, ...]:
        """The platform's entries, then the shared ones, then the project's own new ones; a project
        entry with the id of a shipped one takes its place."""
        own = {e.id: e for e in self._own_troubleshooting}
        entries = [own.pop(e.id, e) for e in (*self.platform(name).troubleshooting, *shared_troubleshooting())]
        return tuple(entries + list(own.values()))

    # --- prices and secret kinds -------------------------------------------------------------

    @cached_property
    def prices(self) -> dict[str, Price]:
        """Shipped prices, then each folder's pricing.csv (same id: the folder's price)."""
        out = dict(shipped_catalog())
        for folder in self.folders:
            if (folder / "pricing.csv").is_file():
                out.update(read_catalog(folder / "pricing.csv"))
        return out

    @cached_property
    def secret_kinds(self) -> dict[str, dict[str, Any]]:
        """Secret kinds by name (title, rotation_days, source, generate, generate_command)."""
        kinds: dict[str, SecretKind] = dict(load_file(DATA_DIR / "secret-kinds.yaml", SecretKindsFile).kinds)
        for folder in self.folders:
            if (folder / "secret-kinds.yaml").is_file():
                kinds.update(load_file(folder / "secret-kinds.yaml", SecretKindsFile).kinds)
        return {k: v.model_dump() for k, v in kinds.items()}

    # --- shipped only ------------------------------------------------------------------------

    def datastore_services(self) -> dict[str, DatastoreService]:
        return datastore_services()

    def migration_tools(self) -> dict[str, MigrationTool]:
        return migration_tools()

    def decision_tree(self) -> tuple[DecisionNode, ...]:
        return load_decision_tree()

    def alert_guides(self) -> dict[str, AlertGuide]:
        return load_alert_guides()

    def alert_definitions(self) -> tuple[AlertDefinition, ...]:
        return alert_definitions()


@cache
def open_catalog(folders: tuple[Path, ...] = ()) -> Catalog:
    """The catalog of the shipped data plus `folders` (cached: one per folder set)."""
    return Catalog(tuple(Path(f).resolve() for f in folders))


def platform_names() -> tuple[str, ...]:
    """The shipped platforms."""
    return open_catalog().platform_names()


def load_platform(name: str) -> Platform:
    """A shipped platform."""
    return open_catalog().platform(name)


def clear_caches() -> None:
    """Forget every opened catalog and loaded platform folder (after files changed, e.g. in tests)."""
    open_catalog.cache_clear()
    load_platform_folder.cache_clear()
    clear_loader_caches()
    shipped_catalog.cache_clear()

"""CI language commands (opslib/data/ci-languages.yaml): install, lint, type check, tests,
dependency audit, SAST rules and packaging per language."""

from __future__ import annotations

from functools import cache

from opslib.catalog.loaders import DATA_DIR
from opslib.core.yamlio import read_yaml

__all__ = ["ci_languages"]


def _load(name: str) -> dict:
    return read_yaml(DATA_DIR / name)


@cache
def ci_languages() -> dict[str, dict]:
    return dict(_load("ci-languages.yaml")["languages"])

"""The parameters schema as people read it: every field with its type, default, description and
choices, from the pydantic models (the one schema); the catalogs give the choices of the fields
that name a catalog entry (platform, datastore service, secret store and kind, …).

    schema()                   -> dict            the JSON Schema of parameters files (`opslib schema`)
    schema_text()              -> str             the same as committed in schema/parameters.schema.json
    fields()                   -> [FieldDoc]      every field, depth first, in the models' order
    field_doc(path)            -> FieldDoc | None one field by path, list items written [] (services.[].port)
    markdown()                 -> str             docs/parameters.md (`opslib schema --markdown`)

Paths use dots, with `[]` for the items of a list: `services.[].health.path`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from opslib.catalog.catalog import open_catalog
from opslib.catalog.secrets import secret_stores
from opslib.params.models import ProjectParams

__all__ = ["FieldDoc", "SCHEMA_FILE", "catalog_choices", "field_doc", "fields", "markdown", "schema", "schema_text"]

SCHEMA_FILE = "schema/parameters.schema.json"  # committed beside parameters/, so editors complete and validate


@dataclass(frozen=True)
class FieldDoc:
    path: str  # services.[].port
    type: str  # integer, string, list of Service, one of web / worker / job, …
    required: bool
    default: str | None  # as written in YAML, None when there is none
    description: str
    choices: tuple[str, ...]  # enum values, or the catalog's names
    example: str | None  # the "e.g." of the description

    @property
    def depth(self) -> int:
        return self.path.count(".")


def schema() -> dict[str, Any]:
    return ProjectParams.model_json_schema()


def schema_text() -> str:
    return json.dumps(schema(), indent=2) + "\n"


def catalog_choices() -> dict[str, tuple[str, ...]]:
    """The fields whose value names a catalog entry, and the shipped catalog's names."""
    catalog = open_catalog()
    return {
        "platform": tuple(catalog.platform_names()),
        "datastores.[].service": tuple(sorted(catalog.datastore_services())),
        "datastores.[].migration_tool": tuple(sorted(catalog.migration_tools())),
        "secrets.items.[].store": tuple(sorted(secret_stores())),
        "secrets.items.[].kind": tuple(sorted(catalog.secret_kinds)),
    }


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The object behind a $ref, and the non-null branch of an optional field."""
    while True:
        if "$ref" in node:
            node = {**defs[node["$ref"].split("/")[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
            continue
        branches = [b for b in node.get("anyOf", []) if b.get("type") != "null"]
        objects = [b for b in branches if "$ref" in b or "properties" in b]
        if len(branches) > 1 and len(objects) == 1:  # a shorthand beside a mapping (a Range as one number): walk the mapping
            branches = objects
        if len(branches) == 1:
            node = {**branches[0], **{k: v for k, v in node.items() if k != "anyOf"}}
            continue
        return node


def _type(node: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in node:
        target = defs.get(node["$ref"].split("/")[-1], {})
        return "mapping" if target.get("type") == "object" or "properties" in target else _type(target, defs)
    if "enum" in node:
        return "one of " + " / ".join(str(v) for v in node["enum"])
    if "const" in node:
        return f"{node['const']}"
    if "anyOf" in node:
        parts = [_type(b, defs) for b in node["anyOf"] if b.get("type") != "null"]
        return " or ".join(parts) + (" (or null)" if len(parts) < len(node["anyOf"]) else "")
    kind = node.get("type", "any")
    if kind == "array":
        item = _type(node.get("items", {}), defs)
        return "list of " + ("mappings" if item == "mapping" else item + "s" if item in ("string", "integer", "number") else item)
    if kind == "object" and "additionalProperties" in node and isinstance(node["additionalProperties"], dict):
        return f"mapping of name → {_type(node['additionalProperties'], defs)}"
    if kind == "string" and node.get("format") == "date":
        return "date (YYYY-MM-DD)"
    return {"integer": "integer", "number": "number", "string": "string", "boolean": "true / false", "object": "mapping"}.get(kind, kind)


def _default(node: dict[str, Any]) -> str | None:
    if "default" not in node or node["default"] is None:
        return None
    return json.dumps(node["default"], ensure_ascii=False)


_EG = re.compile(r"\be\.g\.,?\s+(.+?)(?:\)|;|$)")


def _example(description: str) -> str | None:
    m = _EG.search(description)
    return m.group(1).strip().rstrip(".,") if m else None


@cache
def fields() -> tuple[FieldDoc, ...]:
    root = schema()
    defs = root.get("$defs", {})
    choices = catalog_choices()
    out: list[FieldDoc] = []

    def walk(obj: dict[str, Any], prefix: str, seen: tuple[str, ...]) -> None:
        required = set(obj.get("required", []))
        for key, raw in obj.get("properties", {}).items():
            path = f"{prefix}{key}"
            node = _resolve(raw, defs)
            description = " ".join(str(raw.get("description") or node.get("description") or "").split())
            enum = node.get("enum") or (node.get("items", {}) or {}).get("enum") or ()
            out.append(FieldDoc(path, _type(raw, defs), key in required, _default(raw), description,
                                tuple(str(v) for v in enum) or choices.get(path, ()), _example(description)))
            ref = raw.get("$ref") or next((b["$ref"] for b in raw.get("anyOf", []) if "$ref" in b), None)
            if node.get("type") == "array" or "items" in node:
                items = node.get("items", {})
                item_ref = items.get("$ref")
                if item_ref and item_ref not in seen:
                    walk(_resolve(items, defs), f"{path}.[].", (*seen, item_ref))
            elif node.get("properties") and (ref is None or ref not in seen):
                walk(node, f"{path}.", (*seen, ref) if ref else seen)

    walk(root, "", ())
    return tuple(out)


def field_doc(path: str) -> FieldDoc | None:
    return next((f for f in fields() if f.path == path), None)


def _cell(text: str | None) -> str:
    return (text or "—").replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """docs/parameters.md: one table per top-level section, every field of the models."""
    lines = [
        "# Parameters reference",
        "",
        "Every field of `parameters/<project>.yaml`, generated from the pydantic models (`opslib/params/`):",
        "do not edit by hand; regenerate with `opslib schema --markdown > docs/parameters.md`",
        "(`tests/test_onboard.py` fails when this file and the models differ).",
        "The JSON Schema of the same models is `schema/parameters.schema.json` (`opslib schema`); a parameters file",
        "that starts with `# yaml-language-server: $schema=../schema/parameters.schema.json` gets completion and",
        "validation in editors that use the YAML language server (VS Code's YAML extension, Neovim, Helix, …).",
        "`opslib init NAME` writes a first file with these descriptions as comments.",
        "",
        "Paths: `services.[].port` is the `port` of each item of the list `services`. **required** fields have no",
        "default; choices from a catalog are those shipped with opslib (a project's own catalogs may add more).",
        "",
    ]
    top = [f for f in fields() if f.depth == 0]
    lines += ["## Sections", ""] + [f"- [`{f.path}`](#{f.path}){' (required)' if f.required else ''}: {f.description}"
                                   for f in top] + [""]
    for section in top:
        lines += [f"## {section.path}", "", section.description, "",
                  "| field | type | default | description | example / choices |", "|---|---|---|---|---|"]
        for f in fields():
            if f.path != section.path and not f.path.startswith(section.path + "."):
                continue
            default = "**required**" if f.required else f"`{f.default}`" if f.default is not None else "—"
            extra = f.example or ""
            if f.choices:
                extra = (extra + "; " if extra else "") + "choices: " + ", ".join(f"`{c}`" for c in f.choices)
            lines.append(f"| `{f.path}` | {_cell(f.type)} | {default} | {_cell(f.description)} | {_cell(extra)} |")
        lines.append("")
    return "\n".join(lines)

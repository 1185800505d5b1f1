"""Cost scenarios: what the cost explorer's controls chose, saved so it comes back.

    scenario_dir(params)                    -> Path          scenarios/<project>/, beside parameters/
    scenario_path(params, name)             -> Path          scenarios/<project>/<name>.yaml (the name validated)
    list_scenarios(params)                  -> [str]
    save_scenario(params, name, overrides)  -> Path
    load_scenario(params, name)             -> Overrides     every value validated against the parameters
    apply_scenario(params, overrides)       -> ProjectParams the parameters as if the values were written into them
    with_scenario(params, name)             -> ProjectParams load_scenario + apply_scenario ("" or None: the parameters)
    folder_name(project, name)              -> str           <project>@<name>: where render and batch write its documents
    edit_parameters(params, overrides)      -> Edit          the parameters file with the values, and its diff
    write_parameters(edit)                  -> Path          validated, then written atomically

A scenario lives outside parameters/ (project discovery, `opslib render` and `opslib batch`
read only parameters/*.yaml) and holds absolute values: a usage driver's expected value (its
low, its high and its per-environment ranges scale by the same factor, as the explorer's
slider does), a component's price id, an environment's maximum replicas.

Applying a scenario to the parameters file edits the text in place: ruamel.yaml (round-trip
mode) finds each value's line and column and only those characters change. A full ruamel
dump would also re-indent sequences, re-wrap folded text and re-space flow mappings the user
wrote; the diff shown before writing must be exactly the values, nothing else.
"""

from __future__ import annotations

import difflib
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from opslib.catalog.pricing import load_catalog
from opslib.core.files import write_text_atomic
from opslib.core.yamlio import read_yaml
from opslib.documents.cost_plan import Overrides
from opslib.errors import InputError, ParamsError
from opslib.params.models import ProjectParams, load_params

__all__ = ["NAME_PATTERN", "MAX_REPLICAS", "Edit", "scenario_dir", "scenario_path", "check_name", "list_scenarios", "save_scenario",
           "load_scenario", "apply_scenario", "with_scenario", "folder_name", "edit_parameters", "write_parameters", "scenario_text"]

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
KEYS = ("drivers", "prices", "replicas_max")
MAX_REPLICAS = 100_000


def scenario_dir(params: ProjectParams) -> Path:
    """scenarios/<project>/ beside parameters/ (beside the parameters file when it is elsewhere)."""
    root = params.base_dir.parent if params.base_dir.name == "parameters" else params.base_dir
    return root / "scenarios" / params.project.name


def check_name(name: str) -> str:
    """A scenario name: lower-case letters, digits and dashes (it becomes a file name)."""
    name = str(name).strip()
    if not NAME_PATTERN.match(name):
        raise InputError(f"scenario name {name[:80]!r}: use lower-case letters, digits and dashes (e.g. peak-season), at most 63 characters.")
    return name


def scenario_path(params: ProjectParams, name: str) -> Path:
    return scenario_dir(params) / f"{check_name(name)}.yaml"


def list_scenarios(params: ProjectParams) -> list[str]:
    folder = scenario_dir(params)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml") if NAME_PATTERN.match(p.stem) and p.is_file())


def _number(value: float) -> str:
    """A YAML number that reads back as exactly `value` (an integer when it is one)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def scenario_text(params: ProjectParams, name: str, overrides: Overrides) -> str:
    """The scenario file: a header saying what it is and how to use it, then the values."""
    root = scenario_dir(params).parent.parent
    where = Path(params.path) if params.path is not None else Path("parameters") / f"{params.project.name}.yaml"
    if where.is_absolute() and where.resolve().is_relative_to(root.resolve()):
        where = where.resolve().relative_to(root.resolve())
    lines = [f"# Cost scenario {name!r} of {params.project.name}: the values chosen in the cost explorer.",
             "# A driver's low and high scale with its expected value; everything else comes from the parameters.",
             f"#   see what it changes:  opslib cost-diff {where} --scenario {name}",
             f"#   render with it:       opslib render {where} --scenario {name}",
             f"#   write it into them:   opslib scenario apply {where} {name}",
             f"project: {params.project.name}"]
    sections: dict[str, dict[str, str]] = {"drivers": {k: _number(v) for k, v in overrides.drivers.items()}, "prices": dict(overrides.prices),
                                           "replicas_max": {k: str(v) for k, v in overrides.replicas_max.items()}}
    for key, values in sections.items():
        lines += [f"{key}:"] + [f"  {k}: {v}" for k, v in sorted(values.items())] if values else [f"{key}: {{}}"]
    return "\n".join(lines) + "\n"


def save_scenario(params: ProjectParams, name: str, overrides: Overrides) -> Path:
    """Validate the values, then write scenarios/<project>/<name>.yaml (replacing a scenario of that name)."""
    path = scenario_path(params, name)
    _validate(params, {"project": params.project.name, "drivers": dict(overrides.drivers), "prices": dict(overrides.prices),
                       "replicas_max": dict(overrides.replicas_max)}, str(path))
    if path.is_symlink():
        raise InputError(f"{path}: a symbolic link; remove it (scenarios are plain files in {path.parent}).")
    return write_text_atomic(path, scenario_text(params, check_name(name), overrides))


def load_scenario(params: ProjectParams, name: str) -> Overrides:
    """scenarios/<project>/<name>.yaml, every value checked against the parameters."""
    path = scenario_path(params, name)
    if not path.is_file():
        have = list_scenarios(params)
        raise InputError(f"{path}: no such scenario for {params.project.name}; "
                         + (f"use one of {', '.join(have)}." if have else "save one from the cost explorer (notebook 10 or opslib app cost) first."))
    return _validate(params, read_yaml(path), str(path))


def _validate(params: ProjectParams, raw: Any, where: str) -> Overrides:
    """Every mistake of a scenario at once (ParamsError), else its Overrides."""
    if not isinstance(raw, dict):
        raise ParamsError(where, ["(top level): must be a mapping with project, drivers, prices and replicas_max"])
    problems = [f"{k}: unknown key; use {', '.join(('project',) + KEYS)}" for k in raw if k not in ("project",) + KEYS]
    if raw.get("project") != params.project.name:
        problems.append(f"project: names {str(raw.get('project'))[:80]!r}, but the parameters are {params.project.name}'s; "
                        "save the scenario again from that project")
    sections = {}
    for key in KEYS:
        value = raw.get(key) or {}
        if not isinstance(value, dict):
            problems.append(f"{key}: must be a mapping")
            value = {}
        sections[key] = {str(k): v for k, v in value.items()}
    cost = params.cost
    if cost is None and any(sections.values()):
        problems.append("(top level): the parameters have no cost: section; a scenario has nothing to change")
        raise ParamsError(where, problems)
    drivers: dict[str, float] = {}
    for name, value in sections["drivers"].items():
        if cost is None or name not in cost.drivers:
            problems.append(f"drivers.{name}: no such usage driver; use one of {', '.join(sorted(cost.drivers)) if cost else 'none'}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            problems.append(f"drivers.{name}: must be a number ≥ 0 ({cost.drivers[name].unit} per month)")
        elif cost.drivers[name].expected == 0 and value != 0:
            problems.append(f"drivers.{name}: the parameters expect 0, so there is nothing to scale; change cost.drivers.{name} in the parameters instead")
        else:
            drivers[name] = float(value)
    prices: dict[str, str] = {}
    if sections["prices"]:
        catalog = load_catalog(cost, params.base_dir, params.catalog.prices, params.cost_price_entries)
        components = {c.name: c for c in cost.components} if cost else {}
        for comp, pid in sections["prices"].items():
            if comp not in components:
                problems.append(f"prices.{comp}: no such cost component; use one of {', '.join(sorted(components))}")
            elif components[comp].price is None:
                problems.append(f"prices.{comp}: the component has no price in the parameters; set cost.components ({comp}).price there first")
            elif not isinstance(pid, str) or pid not in catalog:
                problems.append(f"prices.{comp}: unknown price id {str(pid)[:120]!r}; pick one from opslib/data/pricing.csv or cost.prices")
            else:
                prices[comp] = pid
    replicas: dict[str, int] = {}
    envs = {e.name: e for e in params.environments}
    for env, value in sections["replicas_max"].items():
        if env not in envs:
            problems.append(f"replicas_max.{env}: no such environment; use one of {', '.join(envs)}")
        elif isinstance(value, bool) or not isinstance(value, int) or not max(envs[env].replicas.min, 1) <= value <= MAX_REPLICAS:
            problems.append(f"replicas_max.{env}: must be a whole number from {max(envs[env].replicas.min, 1)} "
                            f"(the environment's replicas.min) to {MAX_REPLICAS:,}")
        else:
            replicas[env] = value
    if problems:
        raise ParamsError(where, problems)
    return Overrides(drivers=drivers, prices=prices, replicas_max=replicas)


def _scaled(r: Any, k: float) -> dict[str, float]:
    return {"low": r.low * k, "expected": r.expected * k, "high": r.high * k}


def _factors(params: ProjectParams, overrides: Overrides) -> dict[str, float]:
    """The factor per driver, computed exactly as cost_plan.estimate computes it."""
    cost = params.cost
    if cost is None:
        return {}
    return {n: (v / cost.drivers[n].expected if cost.drivers[n].expected else 1.0) for n, v in overrides.drivers.items()}


def apply_scenario(params: ProjectParams, overrides: Overrides | None) -> ProjectParams:
    """A copy of the parameters with the scenario's values in them (same file path, same catalogs);
    `cost_plan.estimate(result)` equals `cost_plan.estimate(params, overrides)`."""
    if overrides is None or params.cost is None or not (overrides.drivers or overrides.prices or overrides.replicas_max):
        return params
    cost = params.cost
    drivers = {}
    for name, d in cost.drivers.items():
        k = _factors(params, overrides).get(name)
        if k is None:
            drivers[name] = d
            continue
        envs = {e: r.model_copy(update=_scaled(r, k)) for e, r in d.environments.items()}
        drivers[name] = d.model_copy(update={**_scaled(d, k), "environments": envs})
    components = [c.model_copy(update={"price": overrides.prices[c.name]}) if c.name in overrides.prices else c for c in cost.components]
    environments = [e.model_copy(update={"replicas": e.replicas.model_copy(update={"max": overrides.replicas_max[e.name]})})
                    if e.name in overrides.replicas_max else e for e in params.environments]
    new_cost = cost.model_copy(update={"drivers": drivers, "components": components})
    return params.model_copy(update={"cost": new_cost, "environments": environments})


def with_scenario(params: ProjectParams, name: str | None) -> ProjectParams:
    """The parameters with the named scenario applied; the parameters themselves for no name."""
    return apply_scenario(params, load_scenario(params, name)) if name else params


def folder_name(project: str, name: str | None) -> str:
    """The output folder of a project's documents: <project>, or <project>@<scenario> — never the
    folder of the parameters' own documents, which an on-call engineer reads as the truth."""
    return f"{project}@{check_name(name)}" if name else project


@dataclass(frozen=True)
class Edit:
    """The parameters file with a scenario's values written into it, not yet saved."""

    path: Path
    old: str
    new: str

    @property
    def diff(self) -> list[str]:
        """Unified-diff lines (empty when the parameters already hold these values)."""
        name = str(self.path)
        return list(difflib.unified_diff(self.old.splitlines(keepends=True), self.new.splitlines(keepends=True), name, name + " (scenario applied)"))


_PLAIN_END = {True: re.compile(r"\s+#|\s*[,}\]]|\s*$"), False: re.compile(r"\s+#|\s*$")}


def _token_end(line: str, col: int, flow: bool) -> int:
    """Where the scalar starting at `col` ends (quoted or plain, on one line)."""
    quote = line[col:col + 1]
    if quote in ("'", '"'):
        i = col + 1
        while i < len(line):
            if quote == "'" and line[i] == "'" and line[i + 1:i + 2] == "'":
                i += 2
                continue
            if quote == '"' and line[i] == "\\":
                i += 2
                continue
            if line[i] == quote:
                return i + 1
            i += 1
        raise ValueError("a quoted value that goes on past its line")
    if quote in ("|", ">", "&", "*", "!", "[", "{", ""):
        raise ValueError("not a one-line value")
    m = _PLAIN_END[flow].search(line, col)
    return m.start() if m else len(line)


class _Editor:
    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, text.split("\n")
        self.edits: list[tuple[int, int, bool, str, str]] = []  # (line, column, in a flow mapping, what, new text)

    def set(self, node: Any, key: Any, value: str, what: str) -> None:
        lc = getattr(node, "lc", None)
        if lc is None:
            raise InputError(f"{self.path}: {what} is not where opslib expects it; write the value by hand.")
        line, col = lc.item(key) if isinstance(node, list) else lc.value(key)
        self.edits.append((line, col, bool(node.fa.flow_style()), what, value))

    def text(self) -> str:
        for line, col, flow, what, value in sorted(self.edits, reverse=True):
            src = self.lines[line]
            try:
                end = _token_end(src, col, flow)
            except ValueError as exc:
                raise InputError(f"{self.path}:{line + 1}: {what} is {exc}; write the value on one line as a plain number or id, then apply again.") from None
            self.lines[line] = src[:col] + value + src[end:]
        return "\n".join(self.lines)


def _locate(ed: _Editor, raw: Any, params: ProjectParams, overrides: Overrides) -> None:
    cost: Any = raw.get("cost") if isinstance(raw, dict) else None
    drivers = params.cost.drivers if params.cost is not None else {}
    for name, k in sorted(_factors(params, overrides).items()):
        node = cost["drivers"][name]
        for bound, value in _scaled(drivers[name], k).items():
            ed.set(node, bound, _number(value), f"cost.drivers.{name}.{bound}")
        for env, r in drivers[name].environments.items():
            env_node = node["environments"]
            if isinstance(env_node[env], dict):
                for bound, value in _scaled(r, k).items():
                    ed.set(env_node[env], bound, _number(value), f"cost.drivers.{name}.environments.{env}.{bound}")
            else:  # a scalar range: low = expected = high
                ed.set(env_node, env, _number(r.expected * k), f"cost.drivers.{name}.environments.{env}")
    for i, comp in enumerate(cost["components"] if overrides.prices else []):
        if comp.get("name") in overrides.prices:
            ed.set(comp, "price", overrides.prices[comp["name"]], f"cost.components[{i}].price")
    for i, env in enumerate(raw["environments"] if overrides.replicas_max else []):
        if env.get("name") in overrides.replicas_max:
            ed.set(env["replicas"], "max", str(overrides.replicas_max[env["name"]]), f"environments[{i}].replicas.max")


def edit_parameters(params: ProjectParams, overrides: Overrides) -> Edit:
    """The parameters file with the scenario's values in place of the old ones; nothing is written."""
    if params.path is None:
        raise InputError("the parameters were not read from a file; there is no file to apply the scenario to.")
    path = Path(params.path)
    params = load_params(path)  # the file as it is now: the scaled ranges start from its values
    old = path.read_text(encoding="utf-8")
    try:
        raw = YAML(typ="rt").load(old)
    except YAMLError:
        raise InputError(f"{path}: no longer valid YAML; fix it, then apply the scenario again.") from None
    ed = _Editor(path, old)
    try:
        _locate(ed, raw, params, overrides)
    except (KeyError, IndexError, TypeError, AttributeError):
        raise InputError(f"{path}: changed since it was loaded (a value the scenario sets is gone); reload the project, then apply again.") from None
    return Edit(path, old, ed.text())


def write_parameters(edit: Edit) -> Path:
    """Validate the edited parameters (a temporary copy beside the file, so relative links
    resolve), then replace the file atomically. The file is untouched when validation fails."""
    folder = edit.path.parent
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=f".{edit.path.stem}.", suffix=".check.tmp", delete=False) as fh:
        fh.write(edit.new)
        tmp = Path(fh.name)
    try:
        load_params(tmp)
    except ParamsError as exc:
        raise ParamsError(str(edit.path), exc.problems) from None
    finally:
        tmp.unlink(missing_ok=True)
    return write_text_atomic(edit.path, edit.new)

"""Checks of Prometheus alerting rules (alerts.yml), generated or hand-written: promtool
accepts them (`promtool check rules`), every alert has a summary, a severity, the rationale of
its threshold and a runbook link, and the rules' unit tests pass (`promtool test rules` over
the alerts-test.yml beside them, when there is one).

    check_alerts(text, *, path=None, …, strict=False) -> list[Finding]
    promtool(*args, cwd=None)  -> (rc, output) | None   (None when promtool is not installed)
    check_rules_file(path)     -> Finding               `promtool check rules`
    test_rules_file(path)      -> Finding               `promtool test rules`

`strict=True` is the profile of our generated alerts.yml: its unit tests must be beside it
(a hand-written file without tests is "not measured" there). Item texts:
opslib/data/quality-bar.yaml, genre alerts.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from opslib.check.findings import Finding
from opslib.check.items import item_texts
from opslib.check.markdown import Document
from opslib.check.truth import generated_truth
from opslib.params.models import ProjectParams

__all__ = ["GENRE", "ITEMS", "TEST_FILE", "check_alerts", "promtool", "check_rules_file", "test_rules_file"]

GENRE = "alerts"
ITEMS = item_texts(GENRE)
TEST_FILE = "alerts-test.yml"
AREA = "alerts"


def promtool(*args: str, cwd: Path | None = None) -> tuple[int, str] | None:
    exe = shutil.which("promtool")
    if exe is None:
        return None
    proc = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def _promtool_finding(item: str, res: tuple[int, str] | None) -> Finding:
    if res is None:
        return Finding(item, "not measured", "promtool is not installed (Debian/Ubuntu: apt-get install prometheus)", area=AREA)
    rc, out = res
    last = out.splitlines()[-1] if out else ""
    return Finding(item, "pass" if rc == 0 else "fail", last if rc == 0 else out[-2000:], area=AREA)


def check_rules_file(path: Path) -> Finding:
    return _promtool_finding(ITEMS["check"], promtool("check", "rules", path.name, cwd=path.parent))


def test_rules_file(path: Path) -> Finding:
    return _promtool_finding(ITEMS["test"], promtool("test", "rules", path.name, cwd=path.parent))


def _meaning(text: str) -> Finding:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        return Finding(ITEMS["meaning"], "fail", "no rule groups (groups: [...]); write the rules in Prometheus' rule-file format", area=AREA)
    rules = [r for g in groups if isinstance(g, dict) for r in (g.get("rules") or []) if isinstance(r, dict) and "alert" in r]
    bad = [str(r["alert"]) for r in rules
           if not all((r.get("annotations") or {}).get(k) for k in ("summary", "rationale", "runbook_url")) or "severity" not in (r.get("labels") or {})]
    return Finding(ITEMS["meaning"], "fail" if bad else "pass",
                   f"incomplete: {', '.join(bad)}" if bad else f"{len(rules)} rules with summary, severity, rationale and runbook_url",
                   area=AREA)


def check_alerts(text: str, *, path: Path | None = None, environments: Sequence[str] | None = None,
                 params: ProjectParams | None = None, strict: bool = False, doc: Document | None = None) -> list[Finding]:
    """Every alert explained, `promtool check rules`, and `promtool test rules` over the
    alerts-test.yml beside `path` (when `path` is the file holding `text`, promtool runs
    where it is; otherwise on a copy)."""
    path = Path(path) if path else None
    tests = path.parent / TEST_FILE if path is not None and (path.parent / TEST_FILE).is_file() else None
    in_place = path is not None and path.is_file() and path.read_text(encoding="utf-8") == text
    with tempfile.TemporaryDirectory(prefix="opslib-alerts-") as tmp:
        rules = path if in_place and path is not None else Path(tmp) / (path.name if path is not None else "alerts.yml")
        if not in_place:
            rules.write_text(text, encoding="utf-8")
            if tests is not None:
                tests = Path(shutil.copy(tests, Path(tmp) / TEST_FILE))
        out = [_meaning(text), check_rules_file(rules)]
        if tests is not None:
            out.append(test_rules_file(tests))
        elif strict:
            out.append(Finding(ITEMS["test"], "fail", f"no {TEST_FILE} beside the rules; write the rules' unit tests (opslib render writes them)", area=AREA))
        else:
            out.append(Finding(ITEMS["test"], "not measured", f"no {TEST_FILE} beside the rules, so they were not unit-tested", area=AREA))
    if strict and params is not None:
        out += generated_truth(text, path=path, params=params, kind="yaml")
    return out

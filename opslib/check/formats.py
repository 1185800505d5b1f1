"""Output formats of `opslib check`: text, json, markdown and GitHub workflow annotations, and
the exit decision (`--fail-on error|warning|never`)."""

from __future__ import annotations

import json

from opslib.check.document import Report

__all__ = ["FORMATS", "render_reports", "exceeds"]

FORMATS = ("text", "json", "markdown", "github")


def exceeds(report: Report, fail_on: str) -> bool:
    """True when a failing finding reaches the threshold (error: errors only; warning: any)."""
    if fail_on == "never":
        return False
    return any(f.status == "fail" and (fail_on == "warning" or f.severity == "error") for f in report.findings)


def _counts(r: Report) -> str:
    fails = [f for f in r.findings if f.status == "fail"]
    errors = sum(f.severity == "error" for f in fails)
    return (f"{sum(f.status == 'pass' for f in r.findings)} passed, {errors} failed, {len(fails) - errors} warning(s), "
            f"{sum(f.status in ('n/a', 'not measured') for f in r.findings)} n/a or not measured")


def _esc(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _esc(s).replace(":", "%3A").replace(",", "%2C")


def render_reports(reports: list[Report], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([r.as_dict() for r in reports], indent=2)
    out: list[str] = []
    if fmt == "markdown":
        out += ["| document | genre | score | " + "areas |", "|---|---|---:|---|"]
        out += [f"| `{r.file}` | {r.genre} | {r.score:.1f} | " + ", ".join(f"{a} {s:.0f}" for a, s in r.areas.items()) + " |" for r in reports]
        for r in reports:
            fails = [f for f in r.findings if f.status == "fail"]
            out += ["", f"### `{r.file}` ({r.genre}, score {r.score:.1f})", "", _counts(r)]
            out += [f"- {n}" for n in r.notes]
            if fails:
                out += ["", "| line | severity | item | fix |", "|---:|---|---|---|"]
                out += [f"| {f.line or ''} | {f.severity} | {f.item} | {f.message.replace('|', '/')} |" for f in fails]
        return "\n".join(out)
    for r in reports:
        if fmt == "github":
            for f in r.findings:
                if f.status == "fail":
                    kind = "error" if f.severity == "error" else "warning"
                    loc = f"file={_prop(r.file)}" + (f",line={f.line}" if f.line else "")
                    out.append(f"::{kind} {loc},title={_prop(f.item)}::{_esc(f.message)}")
            out.append(f"{r.file}: {r.genre}, score {r.score:.1f}; {_counts(r)}")
            continue
        for f in r.findings:
            where = f"{r.file}:{f.line}" if f.line else r.file
            status = "warning" if f.status == "fail" and f.severity == "warning" else f.status
            out.append(f"{where}: {status}: [{f.item}] {f.message}")
        areas = ", ".join(f"{a} {s:.0f}" for a, s in r.areas.items())
        out += [f"{r.file}: note: {n}" for n in r.notes]
        out.append(f"{r.file}: {r.genre}, score {r.score:.1f} ({areas}); {_counts(r)}")
    return "\n".join(out)

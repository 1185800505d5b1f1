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


def _changes(r: Report) -> list[str]:
    """The changes that would raise the substance score most, best first."""
    return [f"line {p.line}: {p.advice} (found {p.evidence}; up to +{_gain(r, p):.0f})" if p.line else
            f"{p.advice} (found {p.evidence}; up to +{_gain(r, p):.0f})" for p in r.top_changes()]


def _gain(r: Report, part) -> float:
    sub = r.substance
    if sub is None:
        return 0.0
    return 100 * part.gain * sub.factor / sum(p.weight for p in sub.parts)


def _esc(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _esc(s).replace(":", "%3A").replace(",", "%2C")


def render_reports(reports: list[Report], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([r.as_dict() for r in reports], indent=2)
    out: list[str] = []
    if fmt == "markdown":
        out += ["| document | genre | score | items passed | " + "areas |", "|---|---|---:|---:|---|"]
        out += [f"| `{r.file}` | {r.genre}{'' if r.genre_sure else ' (unsure)'} | {r.score:.1f} | {r.compliance:.0f} % | "
                + ", ".join(f"{a} {s:.0f}" for a, s in r.areas.items()) + " |" for r in reports]
        for r in reports:
            fails = [f for f in r.findings if f.status == "fail"]
            out += ["", f"### `{r.file}` ({r.genre}, score {r.score:.1f})", "", _counts(r)]
            out += [f"- {n}" for n in r.notes]
            if r.substance and r.substance.penalties:
                out += [f"- penalty: {p}" for p in r.substance.penalties]
            changes = _changes(r)
            if changes:
                out += ["", f"The {len(changes)} changes that would raise the score most:", ""]
                out += [f"{i}. {c}" for i, c in enumerate(changes, 1)]
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
            out.append(f"{r.file}: {r.genre}, score {r.score:.1f} (items passed {r.compliance:.0f} %); {_counts(r)}")
            continue
        for f in r.findings:
            where = f"{r.file}:{f.line}" if f.line else r.file
            status = "warning" if f.status == "fail" and f.severity == "warning" else f.status
            out.append(f"{where}: {status}: [{f.item}] {f.message}")
        areas = ", ".join(f"{a} {s:.0f}" for a, s in r.areas.items())
        out += [f"{r.file}: note: {n}" for n in r.notes]
        out += [f"{r.file}: note: penalty: {p}" for p in (r.substance.penalties if r.substance else [])]
        out += [f"{r.file}: to raise the score: {c}" for c in _changes(r)]
        out.append(f"{r.file}: {r.genre}{'' if r.genre_sure else ' (unsure)'}, score {r.score:.1f} (items passed {r.compliance:.0f} %; {areas}); {_counts(r)}")
    return "\n".join(out)

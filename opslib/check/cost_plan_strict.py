"""Quality-bar checks of a cost plan: every item of the "Cost Plan Validation" list, plus the
"as of" date and the worst-case-versus-limit guardrail. The same checks run on generated
and hand-written cost plans."""

from __future__ import annotations

import re
from pathlib import Path

from opslib.check.markdown import Document, parse
from opslib.check.findings import Finding

__all__ = ["COST_SECTIONS", "COST_ITEMS", "check_cost_plan"]

COST_SECTIONS = ("Estimated Costs", "Cost Tracking", "Guardrails", "Optimization Opportunities")
COST_ITEMS = {
    "exists": "cost-plan.md exists (if project uses paid resources)",
    "sections": "All required sections present: Estimated Costs, Cost Tracking, Guardrails, Optimization Opportunities",
    "ranges": "Cost estimates include ranges and assumptions",
    "components": "Estimates break down by component",
    "infrastructure": "Infrastructure costs documented (compute, storage, network)",
    "third_party": "Third-party service costs documented",
    "tracking": "Cost tracking tools and dashboards specified",
    "limits": "Spending limits per environment defined",
    "autoscaling": "Auto-scaling limits documented",
    "alerts": "Budget alerts configured or documented",
    "priority": "Optimization opportunities identified with priority",
    "right_sizing": "Right-sizing recommendations included",
    "as_of": "Estimates include an \"as of\" date (pricing changes)",
    "worst_case": "Worst-case cost at maximum scale within the spending limit",
}
MONEY_RANGE = re.compile(r"\$[\d,]+(\.\d+)?\s*[–-]\s*\$[\d,]+(\.\d+)?")


def _f(key: str, ok: bool, good: str, bad: str, line: int | None = None) -> Finding:
    return Finding(COST_ITEMS[key], "pass" if ok else "fail", good if ok else bad, line, "cost-plan")


def _sec(doc: Document, name: str):
    return doc.find(name)


def _body(doc: Document, name: str) -> str:
    sec = _sec(doc, name)
    return doc.body(sec) if sec else ""


def check_cost_plan(text: str, path: Path | None = None, environments: list[str] | None = None) -> list[Finding]:
    """Every "Cost Plan Validation" item of the quality bar, each as a Finding."""
    doc = parse(text, path)
    out: list[Finding] = [_f("exists", bool(text.strip()), "the cost plan has content", "the cost plan is empty; generate or write it")]
    found = [(s, _sec(doc, s)) for s in COST_SECTIONS]
    missing = [s for s, sec in found if sec is None]
    lines = [sec.line for _, sec in found if sec is not None]
    out.append(_f("sections", not missing and lines == sorted(lines), "all four sections present, in order",
                  f"missing or out of order: {', '.join(missing) or 'order'}; use ## Estimated Costs, ## Cost Tracking, ## Guardrails, ## Optimization Opportunities in that order"))
    est = _body(doc, "Estimated Costs")
    unknown = [i + 1 for i, ln in enumerate(doc.lines) if "price unknown" in ln and "|" in ln]
    has_assumptions = doc.find("Assumptions") is not None
    ok = bool(MONEY_RANGE.search(est)) and has_assumptions and not unknown
    out.append(_f("ranges", ok, "low–high ranges and an Assumptions list", (
        f"a component's price is unknown (line {unknown[0]}); add it under cost.prices or pick a catalog price id" if unknown else
        "Estimated Costs needs $low–$high ranges and an ### Assumptions list"), unknown[0] if unknown else None))
    table = re.search(r"^\|\s*Component\s*\|", est, re.M | re.I)
    out.append(_f("components", bool(table), "a per-component table", "add a table with a Component column listing every priced component"))
    infra = _body(doc, "Infrastructure")
    ok = all(re.search(w, infra, re.I) for w in ("compute", "storage", "network"))
    out.append(_f("infrastructure", ok, "compute, storage and networking covered",
                  "add ### Infrastructure with compute, storage and networking (write 'none' where there is none)"))
    third = _body(doc, "Third-party services")
    out.append(_f("third_party", bool(third.strip()) and ("$" in third or re.search(r"\bnone\b", third, re.I) is not None),
                  "third-party services covered", "add ### Third-party services with their costs (or 'none' if there are none)"))
    tr = _body(doc, "Cost Tracking")
    out.append(_f("tracking", bool(re.search(r"https?://|port-forward", tr)) and bool(re.search(r"dashboard", tr, re.I)),
                  "tools with dashboard links and creation steps", "name the cost tools and give dashboard links or creation steps"))
    gr = _body(doc, "Guardrails")
    lim = _body(doc, "Spending limits")
    envs = environments or []
    lacking = [e for e in envs if not re.search(rf"^\|\s*{re.escape(e)}\s*\|.*\$", lim, re.M)]
    out.append(_f("limits", bool(lim) and not lacking and "$" in lim, "a limit for every environment",
                  f"add ### Spending limits with a $ limit for {', '.join(lacking) or 'each environment'}"))
    auto = _body(doc, "Auto-scaling limits")
    out.append(_f("autoscaling", bool(re.search(r"\d", auto)) and bool(re.search(r"max", auto, re.I)),
                  "replica limits with worst-case cost", "add ### Auto-scaling limits with min/max per environment"))
    out.append(_f("alerts", bool(re.search(r"alert", gr, re.I)) and bool(re.search(r"\d+%", gr)),
                  "alert thresholds and recipients", "document budget alert thresholds (e.g. 70/90/100%) and who receives them"))
    opt = _body(doc, "Optimization Opportunities")
    out.append(_f("priority", bool(re.search(r"quick win|complex", opt, re.I)) and "$" in opt,
                  "opportunities with savings and priority", "list optimization opportunities with an estimated saving and a priority (quick win / complex)"))
    out.append(_f("right_sizing", bool(re.search(r"right-siz", opt, re.I)), "right-sizing covered", "add a right-sizing recommendation"))
    m = re.search(r"as of\**:?\**\s*\d{4}-\d{2}-\d{2}", est, re.I)
    out.append(_f("as_of", bool(m), "estimate dated", "state the date the estimate is as of (e.g. 'Estimated as of: 2026-11-02')"))
    breach = [i + 1 for i, ln in enumerate(doc.lines) if "BREACH" in ln]
    out.append(_f("worst_case", not breach, "worst case at maximum scale is within every limit",
                  f"line {breach[0] if breach else 0}: the worst case at maximum scale exceeds the spending limit; lower replicas.max or raise the budget with approval",
                  breach[0] if breach else None))
    return out

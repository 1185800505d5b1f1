"""Quality-bar checks of a cost plan: every item of the quality bar's "Cost Plan Validation"
list, plus the "as of" date from its Common Mistakes and the worst case at maximum scale
against the spending limit, read from the text of a hand-written or a generated cost plan.

A team's cost plan is written in its own words and shapes (an AWS implementation guide's
"Cost" page, a FinOps budget guide, a README section). These rules look for what each item
asks for wherever it is written:

- sections: the four cost-plan sections after mapping synonyms (data/check-synonyms.yaml) at any
  heading level, in order;
- estimates: money ranges (`$30–$50`, or several priced scenarios) with their assumptions
  (an Assumptions section, a usage/dimensions column, "based on …", "assuming …");
- a per-component breakdown (a priced table or a priced list of at least three components);
- infrastructure (compute, storage and network each on a priced line), third-party services
  (APIs, monitoring, logging, licences on a priced line, or stated as none);
- tracking tools with a dashboard (a link, a console, a command), spending limits for at least
  two environments, auto-scaling limits (min/max), budget alerts with % thresholds;
- optimisation with a priority or an estimated saving, right-sizing, an "as of" date.

`strict=True` is the profile of our generated plans: the same findings plus a failing finding
for each demand of their exact shape that is not met (### Assumptions, a Component table,
### Infrastructure, ### Third-party services, ### Spending limits with a row per environment,
### Auto-scaling limits, a price for every component, no price of another region than its
environment's left unacknowledged (REGION MISMATCH), …). Each finding names the line it
refers to and what to add. Item texts: opslib/data/quality-bar.yaml, genre cost-plan.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from opslib.check.findings import Finding, Status, environment_names
from opslib.check.items import item_texts
from opslib.check.markdown import Document, Section, canonical_section, norm_title, parse
from opslib.check.truth import generated_truth
from opslib.params.models import ProjectParams

__all__ = ["GENRE", "ITEMS", "COST_SECTIONS", "MONEY", "ENV_WORDS", "check_cost_plan"]

GENRE = "cost-plan"
ITEMS = item_texts(GENRE)
COST_SECTIONS = ("Estimated Costs", "Cost Tracking", "Guardrails", "Optimization Opportunities")

MONEY = r"(?:US)?\$\s?\d[\d,]*(?:\.\d+)?(?:\s?[kKmM]\b)?"
MONEY_RX = re.compile(MONEY)
RANGE_RX = re.compile(rf"{MONEY}\s*(?:[-–—]|to)\s*(?:\$\s?)?\d[\d,]*(?:\.\d+)?|between\s+{MONEY}\s+and\s+{MONEY}", re.I)
ENV_WORDS = {"dev": r"dev|development", "staging": r"staging|stage|test|qa|uat|non-?prod(?:uction)?",
             "prod": r"prod|production"}
CATEGORY = {
    "compute": r"compute|\bvms?\b|virtual machines?|instances?|fargate|ec2|lambda|functions?|app service|containers?|kubernetes|\beks\b|\baks\b|\bgke\b|dynos?|vcpu|\bcpu\b|nodes?|pods?|ecs",
    "storage": r"storage|\bs3\b|blob|disks?|\bebs\b|database|\bdb\b|postgres\w*|mysql|aurora|\brds\b|dynamodb|cosmos|redis|cache|volumes?",
    "network": r"network\w*|bandwidth|data transfer|egress|ingress|load balancer|\balb\b|\belb\b|\bcdn\b|cloudfront|\bnat\b|gateway|\bdto\b|vpc",
}
THIRD_PARTY = r"third[- ]party|saas|\bapis?\b|monitoring|logging|logs?\b|observability|insights|cloudwatch|datadog|sentry|new relic|grafana|pagerduty|opsgenie|openai|stripe|twilio|sendgrid|licen[cs]es?|subscriptions?|support plan"
TRACKING_TOOLS = r"cost explorer|cost management|cost analysis|cost and usage report|\bcur\b|billing|budgets? (?:console|dashboard)|infracost|kubecost|opencost|cloudability|vantage|cloudhealth|finops|cost anomaly|consumption usage|aws budgets|gcp billing"
PRIORITY = r"quick wins?|priority|\bp[0-3]\b|\b(?:high|medium|low)\b (?:impact|effort|priority)|effort|complex|phase \d|first|next quarter|short[- ]term|long[- ]term"
SAVING = r"sav(?:e|es|ing|ings)\b[^\n]*(?:\$|\d+\s?%)|(?:\$|\d+\s?%)[^\n]*\bsav(?:e|es|ing|ings)\b|reduc\w*[^\n]*(?:\$|\d+\s?%)"
RIGHT_SIZING = r"right-?siz\w*|down-?siz\w*|over-?provision\w*|under-?utili[sz]\w*|smaller (?:instance|sku|tier|size|node)|(?:optimi[sz]e|review|appropriate)[^\n]{0,30}\b(?:sku|instance (?:type|size)|tier|size)\b|idle (?:resources?|instances?)"
AS_OF = re.compile(r"\b(?:as of|as at|prices? (?:were |are )?(?:taken|retrieved|checked|read|current) (?:on|as of)|estimated (?:on|as of)|last (?:updated|reviewed|verified)|pricing date)\b\**:?\**\s*"
                   r"(?:\d{4}-\d{2}(?:-\d{2})?|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\s+(?:\d{1,2},?\s+)?\d{4}|\d{1,2}\s+\w+\s+\d{4}|q[1-4]\s+\d{4})", re.I)


def _f(key: str, status: Status, message: str, line: int | None = None) -> Finding:
    return Finding(ITEMS[key], status, message, line, "cost-plan")


def _line_of(text: str, pos: int) -> int:
    return text[:pos].count("\n") + 1


def _find(doc: Document, name: str) -> Section | None:
    """The first heading, at any level, that stands for the cost-plan section `name`."""
    for sec in doc.sections:
        if norm_title(sec.title) == name.lower() or canonical_section(sec.title) == name:
            return sec
    return None


def _priced(line: str) -> bool:
    return bool(MONEY_RX.search(line)) or bool(re.search(r"\b(free|none|no cost|included|\d[\d,.]*\s?(usd|eur|gbp|cny))\b", line, re.I))


def _priced_lines(doc: Document) -> list[tuple[int, str]]:
    return [(n, ln) for n, ln in enumerate(doc.lines, 1) if _priced(ln)]


def _component_rows(doc: Document) -> list[int]:
    """Lines of priced components: table body rows or list items carrying an amount."""
    out = []
    for n, ln in enumerate(doc.lines, 1):
        s = ln.strip()
        if not MONEY_RX.search(s) or re.search(r"\btotal\b|\bsubtotal\b", s, re.I):
            continue
        table_row = s.startswith("|") and not re.match(r"^\|[\s:|-]+\|?$", s)
        list_item = re.match(r"([-*+]|\d+\.)\s+\S", s) and re.search(r"\*\*[^*]+\*\*|:", s)
        if table_row or list_item:
            out.append(n)
    return out


def check_cost_plan(text: str, *, path: Path | None = None, environments: Sequence[str] | None = None,
                    params: ProjectParams | None = None, strict: bool = False, doc: Document | None = None) -> list[Finding]:
    """Every "Cost Plan Validation" item read from any cost plan's text, each as a Finding;
    `strict` adds the demands of our generated plans' shape (`doc`: the text already parsed)."""
    doc = doc if doc is not None and doc.text == text else parse(text, Path(path) if path else None)
    out = _lenient(doc, environment_names(environments, params))
    if strict:
        out += _strict(doc, environment_names(environments, params, default=()))
    if strict and params is not None:
        out += generated_truth(text, path=Path(path) if path else None, params=params, doc=doc)
    return out


def _lenient(doc: Document, envs: list[str]) -> list[Finding]:
    text = doc.text
    low = text.lower()
    out: list[Finding] = [_f("exists", "pass" if text.strip() else "fail",
                             "the cost plan has content" if text.strip() else "the cost plan is empty; write it")]

    # sections (synonyms, any heading level, in order)
    found = {name: _find(doc, name) for name in COST_SECTIONS}
    missing = [n for n, s in found.items() if s is None]
    sections = {n: s for n, s in found.items() if s is not None}
    present = [(s.line, n) for n, s in sections.items()]
    if missing:
        out.append(_f("sections", "fail", f"no section for {', '.join(missing)}; add a heading for each "
                      "(## Estimated Costs, ## Cost Tracking, ## Guardrails, ## Optimization Opportunities)",
                      present[0][0] if present else None))
    elif [n for _l, n in sorted(present)] != list(COST_SECTIONS):
        order = ", ".join(sections[n].title for n in sorted(COST_SECTIONS, key=lambda n: sections[n].line))
        out.append(_f("sections", "fail", f"sections are in the order {order}; reorder them to {', '.join(COST_SECTIONS)}",
                      sections["Estimated Costs"].line))
    else:
        out.append(_f("sections", "pass", "all four cost-plan sections present, in order", sections["Estimated Costs"].line))

    # ranges and assumptions
    rng = RANGE_RX.search(text)
    totals = {m.group(0).replace(" ", "") for ln in doc.lines if re.search(r"\btotal\b", ln, re.I) for m in MONEY_RX.finditer(ln)}
    scenarios = len(totals) >= 2
    assume = re.search(r"^#+\s*.*assum|\bassum(e|es|ed|ing|ptions?)\b|\bbased on\b|\bdimensions?\b|\busage (type|quantity|basis|/ ?month)|quantity basis|\bdrivers?\b|"
                       r"\bif (the |a |you |user )?\w+ (create|run|use|change|send|store)|\bper (day|month|hour)\b[^\n]*\d", text, re.I | re.M)
    if (rng or scenarios) and assume:
        out.append(_f("ranges", "pass", "estimates with a range (or priced scenarios) and the assumptions behind them",
                      _line_of(text, (rng or assume).start())))
    else:
        lack = [w for w, ok in (("a low–high range or priced scenarios", rng or scenarios), ("the assumptions (usage, sizes, hours)", assume)) if not ok]
        out.append(_f("ranges", "fail", f"the estimate lacks {' and '.join(lack)}; give $low–$high per month and list the assumptions it rests on",
                      found["Estimated Costs"].line if found["Estimated Costs"] else None))

    # components
    rows = _component_rows(doc)
    out.append(_f("components", "pass" if len(rows) >= 3 else "fail",
                  f"{len(rows)} priced component lines" if len(rows) >= 3 else
                  "no per-component breakdown; add a table (component, what, quantity, monthly cost) with every priced component",
                  rows[0] if rows else None))

    # infrastructure: compute, storage, network each on a priced line
    priced = _priced_lines(doc)
    cats = {c: next((n for n, ln in priced if re.search(rx, ln, re.I)), None) for c, rx in CATEGORY.items()}
    lacking = [c for c, n in cats.items() if n is None]
    out.append(_f("infrastructure", "fail" if lacking else "pass",
                  f"infrastructure costs lack {', '.join(lacking)}; price compute, storage and network (write 'none' where there is none)" if lacking
                  else "compute, storage and network costs documented", min((n for n in cats.values() if n), default=None)))

    # third-party services
    third = next((n for n, ln in priced if re.search(THIRD_PARTY, ln, re.I)), None)
    none_stated = re.search(r"no third[- ]party|third[- ]party[^\n]*\b(none|not included|n/a)\b", text, re.I)
    out.append(_f("third_party", "pass" if third or none_stated else "fail",
                  "third-party services (APIs, monitoring, logging) priced or stated as none" if third or none_stated else
                  "no third-party service costs; price the APIs, monitoring, logging and licences the service pays for (or say there are none)",
                  third or (_line_of(text, none_stated.start()) if none_stated else None)))

    # tracking tools and dashboards
    tool = re.search(TRACKING_TOOLS, text, re.I)
    board = re.search(r"dashboard|https?://\S*(cost|billing|budget|portal|console)|portal\.azure\.com|console\.aws|az consumption|aws ce |gcloud billing|aws budgets", text, re.I)
    out.append(_f("tracking", "pass" if tool and board else "fail",
                  f"cost tracking with {tool.group(0)} and a dashboard or link" if tool and board else
                  "no cost-tracking tool with a dashboard; name the tool (Cost Explorer, Azure Cost Management, OpenCost, …) and link its dashboard or say how to create it",
                  _line_of(text, tool.start()) if tool else None))

    # spending limits per environment
    limited: dict[str, int] = {}
    budget_table = False
    for n, ln in enumerate(doc.lines, 1):
        s = ln.strip()
        if s.startswith("|") and re.search(r"budget|limit|cap\b", s, re.I) and not MONEY_RX.search(s):
            budget_table = True
            continue
        if not s.startswith("|"):
            budget_table = budget_table and s != ""
        if not MONEY_RX.search(s):
            continue
        if not (budget_table and s.startswith("|")) and not re.search(r"budget|limit|cap\b|spend(ing)? (limit|cap)|max(imum)? (monthly )?spend", s, re.I):
            continue
        for env in envs:
            if env not in limited and re.search(rf"\b({ENV_WORDS.get(env, re.escape(env))})\b", s, re.I):
                limited[env] = n
    for sec in doc.sections:  # "### Production" / "Monthly Budget: $300" under an environment heading
        titled = next((e for e in envs if re.search(rf"\b({ENV_WORDS.get(e, re.escape(e))})\b", sec.title, re.I)), None)
        if titled and titled not in limited and re.search(rf"(budget|limit)\**:?\**\s*{MONEY}", doc.body(sec), re.I):
            limited[titled] = sec.line
    ok = len(limited) >= min(2, len(envs))
    out.append(_f("limits", "pass" if ok else "fail",
                  f"spending limits for {', '.join(sorted(limited))}" if ok else
                  "no spending limit per environment; give each environment (dev, staging, prod) a monthly $ budget",
                  min(limited.values()) if limited else None))

    # auto-scaling limits
    m = re.search(r"\b(max(imum)?|min(imum)?)[\w\s_'\"-]{0,25}(replicas?|instances?|nodes?|tasks?|capacity|count|pods?|dynos?|size)\b|"
                  r"\b(replicas?|instances?|nodes?|tasks?|capacity|pods?)[\w\s:.'\"-]{0,20}\b(max(imum)?|min(imum)?)\b|"
                  r"\bmax(imum)?\s*[:=]\s*'?\d+|\d+\s*[–-]\s*\d+\s+(replicas|instances|nodes|tasks|pods|dynos)\b|autoscal\w*[^\n]*\b(limit|cap|max)", text, re.I)
    out.append(_f("autoscaling", "pass" if m else "fail",
                  "auto-scaling limits (min/max) documented" if m else
                  "no auto-scaling limits; state the minimum and maximum replicas/instances so a traffic spike cannot run costs away",
                  _line_of(text, m.start()) if m else None))

    # budget alerts with thresholds
    alerts = [n for n, ln in enumerate(doc.lines, 1)
              if re.search(r"alert|alarm|notif|notify", ln, re.I) and re.search(r"\d+\s?%|threshold", ln, re.I)]
    near = any(re.search(r"budget|spend|cost|billing", "\n".join(doc.lines[max(0, n - 6): n + 5]), re.I) for n in alerts)
    ok = bool(alerts) and near
    out.append(_f("alerts", "pass" if ok else "fail",
                  "budget alerts with thresholds" if ok else
                  "no budget alerts; document alert thresholds (e.g. 50/80/100% of the budget) and who receives them",
                  alerts[0] if alerts else None))

    # optimisation with priority and right-sizing
    opt = _find(doc, "Optimization Opportunities")
    opt_text = doc.body(opt) if opt else "\n".join(ln for ln in doc.lines if re.search(r"optimi[sz]|reduc|sav(e|ing)|reserved|spot|commit", ln, re.I))
    has_opp = bool(opt) or bool(opt_text.strip())
    prio = re.search(PRIORITY, opt_text, re.I) or re.search(SAVING, opt_text, re.I)
    ok = has_opp and bool(prio)
    out.append(_f("priority", "pass" if ok else "fail",
                  "optimisation opportunities with a priority or an estimated saving" if ok else
                  ("optimisation opportunities have no priority or saving; give each an estimated saving and a priority (quick win / complex)" if has_opp else
                   "no optimisation opportunities; list where costs could be reduced, with the saving and a priority"),
                  opt.line if opt else None))
    rs = re.search(RIGHT_SIZING, text, re.I)
    out.append(_f("right_sizing", "pass" if rs else "fail", "right-sizing covered" if rs else
                  "no right-sizing recommendation; say which resources to resize and when (utilisation below N% for a week)",
                  _line_of(text, rs.start()) if rs else None))

    # "as of" date on the estimate
    m = AS_OF.search(text)
    out.append(_f("as_of", "pass" if m else "fail", f"estimate dated ({m.group(0).strip()})" if m else
                  "the estimate has no 'as of' date; prices change, so state when they were read ('Estimated as of: 2026-11-02')",
                  _line_of(text, m.start()) if m else None))

    # worst case at maximum scale (decidable only when the plan states one)
    breach = [i + 1 for i, ln in enumerate(doc.lines) if "BREACH" in ln]
    if breach:
        out.append(_f("worst_case", "fail", "the worst case at maximum scale exceeds the spending limit; lower the maximum scale or raise the budget with approval", breach[0]))
    elif re.search(r"worst[- ]case", low):
        out.append(_f("worst_case", "pass", "worst case at maximum scale stated within the limits"))
    else:
        out.append(_f("worst_case", "not measured", "the plan states no cost at maximum scale, so it cannot be compared with the limit"))
    return out


# --- the strict profile: the exact shape of our generated plans ---------------------------------

MONEY_RANGE = re.compile(r"\$[\d,]+(\.\d+)?\s*[–-]\s*\$[\d,]+(\.\d+)?")


def _body(doc: Document, name: str) -> str:
    sec = doc.find(name)
    return doc.body(sec) if sec else ""


def _strict(doc: Document, envs: list[str]) -> list[Finding]:
    """A failing finding for each demand of our generated plans' shape that is not met (a met
    demand adds nothing: the lenient finding of its item already reports the pass)."""
    out: list[Finding] = []

    def demand(key: str, ok: bool, bad: str, line: int | None = None) -> None:
        if not ok:
            out.append(_f(key, "fail", bad, line))

    found = [(s, doc.find(s)) for s in COST_SECTIONS]
    missing = [s for s, sec in found if sec is None]
    lines = [sec.line for _, sec in found if sec is not None]
    demand("sections", not missing and lines == sorted(lines),
           f"missing or out of order: {', '.join(missing) or 'order'}; use ## Estimated Costs, ## Cost Tracking, ## Guardrails, ## Optimization Opportunities in that order")
    est = _body(doc, "Estimated Costs")
    unknown = [i + 1 for i, ln in enumerate(doc.lines) if "price unknown" in ln and "|" in ln]
    ok = bool(MONEY_RANGE.search(est)) and doc.find("Assumptions") is not None and not unknown
    demand("ranges", ok, (
        f"a component's price is unknown (line {unknown[0]}); add it under cost.prices or pick a catalog price id" if unknown else
        "Estimated Costs needs $low–$high ranges and an ### Assumptions list"), unknown[0] if unknown else None)
    region = [i + 1 for i, ln in enumerate(doc.lines) if "REGION MISMATCH" in ln]
    demand("ranges", not region, f"line {region[0] if region else 0}: a component is priced for another region than its environment; "
           "add that region's price under cost.prices, or say why this price stands for it in cost.components[].price_region_note",
           region[0] if region else None)
    demand("components", bool(re.search(r"^\|\s*Component\s*\|", est, re.M | re.I)),
           "add a table with a Component column listing every priced component")
    infra = _body(doc, "Infrastructure")
    demand("infrastructure", all(re.search(w, infra, re.I) for w in ("compute", "storage", "network")),
           "add ### Infrastructure with compute, storage and networking (write 'none' where there is none)")
    third = _body(doc, "Third-party services")
    demand("third_party", bool(third.strip()) and ("$" in third or re.search(r"\bnone\b", third, re.I) is not None),
           "add ### Third-party services with their costs (or 'none' if there are none)")
    tr = _body(doc, "Cost Tracking")
    demand("tracking", bool(re.search(r"https?://|port-forward", tr)) and bool(re.search(r"dashboard", tr, re.I)),
           "name the cost tools and give dashboard links or creation steps")
    lim = _body(doc, "Spending limits")
    lacking = [e for e in envs if not re.search(rf"^\|\s*{re.escape(e)}\s*\|.*\$", lim, re.M)]
    demand("limits", bool(lim) and not lacking and "$" in lim,
           f"add ### Spending limits with a $ limit for {', '.join(lacking) or 'each environment'}")
    auto = _body(doc, "Auto-scaling limits")
    demand("autoscaling", bool(re.search(r"\d", auto)) and bool(re.search(r"max", auto, re.I)),
           "add ### Auto-scaling limits with min/max per environment")
    gr = _body(doc, "Guardrails")
    demand("alerts", bool(re.search(r"alert", gr, re.I)) and bool(re.search(r"\d+%", gr)),
           "document budget alert thresholds (e.g. 70/90/100%) and who receives them")
    opt = _body(doc, "Optimization Opportunities")
    demand("priority", bool(re.search(r"quick win|complex", opt, re.I)) and "$" in opt,
           "list optimization opportunities with an estimated saving and a priority (quick win / complex)")
    demand("right_sizing", bool(re.search(r"right-siz", opt, re.I)), "add a right-sizing recommendation")
    demand("as_of", bool(re.search(r"as of\**:?\**\s*\d{4}-\d{2}-\d{2}", est, re.I)),
           "state the date the estimate is as of (e.g. 'Estimated as of: 2026-11-02')")
    breach = [i + 1 for i, ln in enumerate(doc.lines) if "BREACH" in ln]
    if breach:
        demand("worst_case", False, f"line {breach[0]}: the worst case at maximum scale exceeds the spending limit; lower replicas.max or raise the budget with approval",
               breach[0])
    else:
        demand("worst_case", bool(re.search(r"worst[- ]case", doc.text, re.I)),
               "the plan states no worst-case cost at maximum scale; add it to ### Auto-scaling limits")
    return out

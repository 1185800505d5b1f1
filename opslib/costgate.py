"""The pipeline's cost-check stage (seed 001 §2, stage 4): estimate each environment's
monthly cost with opslib and fail when the expected cost exceeds the environment's budget.

    python -m opslib.costgate parameters/<project>.yaml    exit 0: within budget; 1: over; 2: bad input

Prints a Markdown cost report (the CI job keeps it as the step summary / an artifact).
"""

from __future__ import annotations

import sys

from opslib.errors import OpslibError

__all__ = ["gate", "main"]


def gate(params) -> tuple[bool, str]:
    """(every environment within budget, Markdown report)."""
    from opslib.documents.cost_plan import estimate
    from opslib.core.templates import number

    plan = estimate(params, simulate=False)
    lines = [f"## Cost check: {params.project.name}", "",
             "| Environment | Expected monthly cost | Budget | Share of budget | Result |", "|---|---|---|---|---|"]
    ok = True
    for e in plan.envs:
        if e.budget <= 0:
            lines.append(f"| {e.name} | ${e.expected:,.2f} | none | — | FAIL: no budget set (cost.budgets.{e.name}) |")
            ok = False
            continue
        over = e.expected > e.budget
        ok = ok and not over
        lines.append(f"| {e.name} | ${e.expected:,.2f} | ${e.budget:,.2f} | {number(round(e.pct, 1))}% | "
                     f"{'FAIL: over budget' if over else 'pass'} |")
    lines += ["", "Estimates as of " + params.project.as_of.isoformat() + " (opslib cost model, expected values)."]
    return ok, "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from opslib.params.models import load_params

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m opslib.costgate parameters/<project>.yaml", file=sys.stderr)
        return 2
    try:
        ok, report = gate(load_params(args[0]))
    except OpslibError as exc:
        print(str(exc), file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    print(report, end="")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

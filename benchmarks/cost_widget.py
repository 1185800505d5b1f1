"""Slider-to-updated-output latency of the cost explorer (opslib.costview).

For each example project and a synthetic 500-component model, move the first driver's
slider back and forth and time the callback: estimate + Monte Carlo + rules + table +
guardrail status + the three live (HTML) charts; then, separately, with the cost plan's
matplotlib charts redrawn too. Prints median and p95 in milliseconds. Target: p95 under
100 ms with the live charts.

    .venv/bin/python benchmarks/cost_widget.py [--reps 40] [--chart-reps 8]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from opslib.notebook.cost_plan import cost_explorer
from opslib.params.models import ProjectParams, load_params

REPO = Path(__file__).resolve().parent.parent
PRICES = [
    ("compute", "aws.ec2.m5-large-linux-on-demand.us-east-1", {"count": {"low": 1, "expected": 2, "high": 4}}),
    ("database", "aws.rds.db-t4g-small-postgresql-single-az.us-east-1", {"count": 1}),
    ("storage", "aws.s3.standard-storage-first-50-tb.us-east-1", {"drivers": ["gb"]}),
    ("data_transfer", "aws.datatransfer.out-to-internet-first-10-tb.us-east-1", {"drivers": ["gb"]}),
    ("serverless", "aws.lambda.requests.us-east-1", {"drivers": ["requests"], "factor": 1e-6}),
    ("llm", "openai.openai-api.gpt-4o-input.global", {"drivers": ["requests", "tokens"], "factor": 1e-6}),
]


def synthetic(n: int = 500) -> ProjectParams:
    base = load_params(REPO / "tests" / "fixtures" / "cost" / "tiny.yaml")
    data = base.model_dump(mode="json", exclude_none=True)
    data["cost"]["drivers"].update({
        "gb": {"unit": "GB", "low": 50, "expected": 100, "high": 300, "description": "synthetic"},
        "tokens": {"unit": "tokens", "low": 500, "expected": 1000, "high": 3000, "description": "synthetic"},
    })
    data["cost"]["components"] = [
        {"name": f"c{i:03d}", "category": cat, "description": "synthetic", "price": price, "quantity": qty}
        for i, (cat, price, qty) in ((i, PRICES[i % len(PRICES)]) for i in range(n))
    ]
    data["cost"]["budgets"]["prod"]["monthly_usd"] = 10_000_000
    data["cost"]["budgets"]["dev"]["monthly_usd"] = 10_000_000
    params = ProjectParams.model_validate(data, context={"base_dir": base.base_dir})
    params._path = base.path
    return params


def measure(params, reps: int, document_charts: bool) -> tuple[float, float]:
    ex = cost_explorer(params, charts=True)
    ex.document_charts.value = document_charts
    slider = ex.sliders[sorted(ex.sliders)[0]]
    values = [slider.value * 1.5, slider.value]
    times = []
    for i in range(reps):
        t0 = time.perf_counter()
        slider.value = values[i % 2]  # the observer runs synchronously: estimate + table + status + charts
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--chart-reps", type=int, default=8)
    args = ap.parse_args()
    models = [(p.stem, load_params(p)) for p in sorted((REPO / "parameters").glob("*.yaml"))]
    models.append(("synthetic-500", synthetic(500)))
    print("| model | components | live charts: median ms | p95 ms | + cost-plan charts: median ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, params in models:
        med, p95 = measure(params, args.reps, document_charts=False)
        cmed, cp95 = measure(params, args.chart_reps, document_charts=True)
        print(f"| {name} | {len(params.cost.components)} | {med:.1f} | {p95:.1f} | {cmed:.1f} | {cp95:.1f} |")


if __name__ == "__main__":
    main()

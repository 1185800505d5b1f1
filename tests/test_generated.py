"""Generated projects beyond the three examples (issue 16, "Done when"): every project drawn
over platform × service kinds × CI systems × secret stores × datastores × strategies ×
dependencies is either refused by `opslib validate` (exit 2, each problem naming its field) or
renders every document with every check passing, and a deployment plan for production; never
a traceback. The suite runs a sample; the slow test runs 200; benchmarks/generated.py runs the
matrix at any size and reports timings."""

from __future__ import annotations

import os
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from projects import make_project, outcome, project_choices, sample_choices

from opslib.catalog.catalog import platform_names

SETTINGS = {"deadline": None, "derandomize": True, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


def _assert_contract(tmp, choices):
    path = make_project(tmp, **choices)
    result = outcome(path, tmp / "build")
    assert not result.problems, f"{choices}\n" + "\n".join(result.problems)
    return result


@settings(max_examples=6, **SETTINGS)
@given(choices=project_choices())
def test_generated_projects_sample(tmp_path_factory, choices):
    _assert_contract(tmp_path_factory.mktemp("gen"), choices)


def _one(args):
    i, choices, root = args
    dest = Path(root) / f"p{i}"
    result = outcome(make_project(dest, **choices), dest / "build")
    return choices, result.refused, result.problems


@pytest.mark.slow
def test_generated_projects_200(tmp_path):
    """200 projects drawn with a fixed seed, in parallel on the machine's cores (about 8 minutes
    on 2 cores): the same contract as the sample; benchmarks/generated.py prints the coverage."""
    rng = random.Random(16)
    draws = [sample_choices(rng) for _ in range(200)]
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        results = list(pool.map(_one, [(i, c, str(tmp_path)) for i, c in enumerate(draws)]))
    broken = [f"{c}\n  " + "\n  ".join(p) for c, _refused, p in results if p]
    assert not broken, "\n".join(broken[:5])
    rendered = sum(not r for _c, r, _p in results)
    assert rendered >= 150, f"only {rendered} of 200 rendered; the generator draws too many projects a platform refuses"


@pytest.mark.parametrize("platform", platform_names())
@pytest.mark.parametrize("kinds", [("worker",), ("job",)])
def test_projects_without_a_web_service_render_on_every_platform(tmp_path, platform, kinds):
    """The class of failure of issue 16: a project whose services are all workers (or all jobs)
    validated and then failed to render on every platform, naming no parameter."""
    result = _assert_contract(tmp_path, {"platform": platform, "kinds": kinds, "datastores": ("aws-sqs",), "dependencies": 1})
    assert not result.refused
    runbook = (tmp_path / "build" / "gen-project" / "runbook.md").read_text(encoding="utf-8")
    assert "/healthz" not in runbook and "https://gen.example.com" not in runbook  # no URL that does not exist
    pipeline = (tmp_path / "build" / "gen-project" / "pipeline.md").read_text(encoding="utf-8")
    assert "curl -sS --retry" not in pipeline  # no HTTP smoke test for a service without an endpoint


@pytest.mark.parametrize("choices, field", [
    ({"platform": "heroku", "kinds": ("job",)}, None),
    ({"platform": "aws-lambda", "kinds": ("worker",), "health_command": True}, None),
    ({"platform": "vm-systemd", "strategy": "canary"}, "deploy.strategy"),
    ({"platform": "kubernetes", "store": "heroku-config-vars"}, "secrets.items[0].store"),
])
def test_what_a_platform_cannot_run_is_refused_with_the_field(tmp_path, choices, field):
    result = _assert_contract(tmp_path, choices)
    assert result.refused == (field is not None)
    if field:
        assert field in result.message

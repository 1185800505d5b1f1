import json

import pytest
from conftest import PARAMS

from opslib import StatusError, StatusGateError, check_status, load_params


@pytest.fixture
def params(tmp_path):
    """weather-api with its status.json path pointing into tmp_path."""
    p = load_params(PARAMS / "weather-api.yaml")
    moved = p.model_copy(update={"project": p.project.model_copy(update={"status_file": str(tmp_path / "status.json")})})
    moved._path = p.path
    return moved


def write(tmp_path, **fields):
    base = {"status": "active", "current_phase": "deployment", "last_updated": "2026-11-02T14:05:00Z"}
    base.update(fields)
    (tmp_path / "status.json").write_text(json.dumps({k: v for k, v in base.items() if v is not None}))


@pytest.mark.parametrize(
    "fields, summary",
    [
        ({}, "status.json: active / deployment, updated 2026-11-02"),
        ({"status": "completed", "current_phase": "testing"}, "status.json: completed / testing, updated 2026-11-02"),
    ],
)
def test_deployable_states_pass(tmp_path, params, fields, summary):
    write(tmp_path, **fields)
    assert check_status(params).summary == summary


@pytest.mark.parametrize("state", ["blocked", "on-hold"])
def test_halting_states_refuse_with_reason(tmp_path, params, state):
    write(tmp_path, status=state, blocked_reason="waiting for the security review")
    with pytest.raises(StatusGateError, match=f"is {state}: waiting for the security review;.*--force"):
        check_status(params)


def test_force_overrides_and_says_so(tmp_path, params):
    write(tmp_path, status="blocked", blocked_reason="waiting for the security review")
    summary = check_status(params, force=True).summary
    assert "--force" in summary and "blocked" in summary and "waiting for the security review" in summary


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "status.json not found"),
        ("{not json", "not valid JSON"),
        (json.dumps({"status": "paused", "current_phase": "deployment", "last_updated": "2026-11-02"}), "status: input should be"),
        (json.dumps({"status": "active", "current_phase": "deployment", "last_updated": "yesterday"}), "last_updated: input should be a valid datetime"),
        (json.dumps({"status": "active", "current_phase": "deployment"}), "last_updated: field required"),
    ],
)
def test_missing_or_malformed(tmp_path, params, content, expected):
    if content is not None:
        (tmp_path / "status.json").write_text(content)
    with pytest.raises(StatusError, match=expected):
        check_status(params)

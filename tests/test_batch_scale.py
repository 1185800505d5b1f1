"""Batch at scale: incremental skip (fingerprints), --rebuild/--force, --shard, the deploy examples."""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import PARAMS, REPO

from opslib.cli import main
from opslib.errors import InputError
from opslib.params.models import load_params
from opslib.run.batch import parse_shard, select_shard, shard_of
from opslib.run.fingerprint import input_files, is_unchanged, project_fingerprint, source_hash


def project_tree(root: Path, notebooks=("30-runbook.ipynb",)) -> tuple[Path, Path]:
    """weather-api with its examples, and a notebooks folder holding only `notebooks` (quick)."""
    (root / "parameters").mkdir(parents=True)
    shutil.copy(PARAMS / "weather-api.yaml", root / "parameters")
    shutil.copytree(REPO / "examples", root / "examples")
    (root / "notebooks").mkdir()
    for nb in notebooks:
        shutil.copy(REPO / "notebooks" / nb, root / "notebooks")
    return root / "parameters" / "weather-api.yaml", root / "notebooks"


VERSIONS = {"python": "3", "opslib": "x"}


def test_fingerprint_covers_parameters_linked_files_notebooks_and_flags(tmp_path):
    params_path, nbdir = project_tree(tmp_path)
    nbs = sorted(nbdir.glob("*.ipynb"))
    fp = lambda **kw: project_fingerprint(load_params(params_path), nbs, kw.get("force", False), kw.get("versions", VERSIONS))  # noqa: E731
    base = fp()
    assert fp() == base and len(base) == 64
    files = {p.name for p in input_files(load_params(params_path))}
    assert {"weather-api.yaml", "architecture.md", "plan.md", "spec.md", "status.json"} <= files
    assert fp(force=True) != base
    assert fp(versions={**VERSIONS, "pandas": "9"}) != base
    spec = tmp_path / "examples" / "specs" / "projects" / "weather-api" / "spec.md"
    spec.write_text(spec.read_text() + "\nOne more line.\n")
    assert fp() != base
    after_spec = fp()
    edited = json.loads(nbs[0].read_text())
    edited["cells"][0]["source"] = "".join(edited["cells"][0]["source"]) + " (edited)"
    nbs[0].write_text(json.dumps(edited))
    assert fp() != after_spec
    assert len(source_hash()) == 64


def test_fingerprint_covers_the_billing_exports(tmp_path):
    root = tmp_path
    (root / "parameters").mkdir()
    shutil.copy(PARAMS / "shop-platform.yaml", root / "parameters")
    shutil.copytree(REPO / "examples", root / "examples")
    params_path = root / "parameters" / "shop-platform.yaml"
    params = load_params(params_path)
    bill = (params.base_dir / params.actuals.billing[0]).resolve()
    assert bill in input_files(params)
    before = project_fingerprint(params, [], False, VERSIONS)
    bill.write_bytes(bill.read_bytes() + b"\n")
    assert project_fingerprint(load_params(params_path), [], False, VERSIONS) != before


def test_moving_the_checkout_keeps_the_fingerprint(tmp_path):
    a, nb_a = project_tree(tmp_path / "one")
    b, nb_b = project_tree(tmp_path / "two" / "deeper")
    fa = project_fingerprint(load_params(a), sorted(nb_a.glob("*.ipynb")), False, VERSIONS)
    fb = project_fingerprint(load_params(b), sorted(nb_b.glob("*.ipynb")), False, VERSIONS)
    assert fa == fb


@pytest.mark.kernel
def test_unchanged_projects_are_skipped_and_rebuild_runs_them(tmp_path, capsys):
    params_path, nbdir = project_tree(tmp_path)
    out = tmp_path / "build"
    argv = ["batch", str(params_path), "--out", str(out), "--notebooks", str(nbdir), "--quiet", "--jobs", "1"]
    assert main(argv) == 0
    record = json.loads((out / "weather-api" / "run.json").read_text())
    assert len(record["inputs_sha256"]) == 64 and is_unchanged(out / "weather-api", record["inputs_sha256"])
    capsys.readouterr()

    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "weather-api: unchanged since its last run, skipped" in text and "(1 unchanged, skipped)" in text
    assert json.loads((out / "weather-api" / "run.json").read_text())["finished_at"] == record["finished_at"]

    runbook = out / "weather-api" / "runbook.md"
    runbook.write_text(runbook.read_text() + "edited by hand\n")  # a tampered document is rebuilt
    assert not is_unchanged(out / "weather-api", record["inputs_sha256"])
    assert main(argv) == 0
    assert "edited by hand" not in runbook.read_text()
    capsys.readouterr()

    assert main([*argv, "--rebuild"]) == 0
    assert "skipped" not in capsys.readouterr().out
    assert not list(out.glob(".*"))


def test_parse_shard():
    assert parse_shard("0/4") == (0, 4) and parse_shard("3/4") == (3, 4) and parse_shard("0/1") == (0, 1)
    for bad in ("4/4", "1/0", "-1/3", "a/b", "2", "", "1/2/3"):
        with pytest.raises(InputError, match="0 <= I < N"):
            parse_shard(bad)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 16])
def test_shards_cover_every_project_once(count):
    paths = [Path(f"parameters/project-{i:04d}.yaml") for i in range(500)]
    shards = [select_shard(paths, i, count) for i in range(count)]
    flat = [p for s in shards for p in s]
    assert sorted(flat) == sorted(paths) and len(flat) == len(set(flat))
    if count > 1:
        assert all(len(s) > 500 / count / 2 for s in shards)  # roughly balanced
    # stable: adding projects moves none of the existing ones
    more = paths + [Path(f"parameters/new-{i}.yaml") for i in range(50)]
    assert all(shard_of(p, count) == i for i, s in enumerate(shards) for p in s)
    assert {p for i in range(count) for p in select_shard(more, i, count)} == set(more)


@pytest.mark.kernel
def test_shard_option_on_the_command_line(tmp_path, capsys):
    assert main(["batch", str(PARAMS), "--shard", "5/3", "--out", str(tmp_path / "b"), "--quiet"]) == 2
    assert "--shard 5/3: give I/N with 0 <= I < N" in capsys.readouterr().err
    empty = next(i for i in range(8) if not select_shard(sorted(PARAMS.glob("*.yaml")), i, 8))
    assert main(["batch", str(PARAMS), "--shard", f"{empty}/8", "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert "no projects in this shard" in capsys.readouterr().out
    assert not (tmp_path / "b").exists()


def test_dask_executor_needs_a_scheduler(tmp_path, capsys):
    assert main(["batch", str(PARAMS), "--executor", "dask", "--out", str(tmp_path / "b"), "--quiet"]) == 2
    assert "--executor dask needs --scheduler ADDRESS" in capsys.readouterr().err


def test_kubernetes_indexed_job_wires_the_completion_index_to_shard():
    docs = [d for d in yaml.safe_load_all((REPO / "deploy" / "kubernetes" / "opslib-batch-job.yaml").read_text()) if d]
    job = next(d for d in docs if d["kind"] == "Job")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["template"]["spec"]["restartPolicy"] == "Never"
    container = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SHARDS"] == str(spec["completions"])
    command = " ".join(container["command"] + container["args"])
    assert command.startswith("/bin/sh -c") and "opslib batch" in command and '--shard "${JOB_COMPLETION_INDEX}/${SHARDS}"' in command
    # what the pods receive: JOB_COMPLETION_INDEX = 0 … completions-1 → every project exactly once
    paths = sorted(PARAMS.glob("*.yaml")) + [Path(f"p{i}.yaml") for i in range(40)]
    chosen = []
    for index in range(spec["completions"]):
        shard = command.split("--shard ")[1].strip('"').replace("${JOB_COMPLETION_INDEX}", str(index)).replace("${SHARDS}", env["SHARDS"])
        chosen += select_shard(paths, *parse_shard(shard))
    assert sorted(chosen) == sorted(paths)


def test_airflow_dag_fans_out_over_every_shard():
    text = (REPO / "deploy" / "airflow" / "opslib_batch_dag.py").read_text()
    compile(text, "opslib_batch_dag.py", "exec")  # valid Python (Airflow itself is not a dependency)
    assert "--shard" in text and "expand" in text and "--check" in text
    assert (REPO / "deploy" / "README.md").read_text().count("--shard") >= 2

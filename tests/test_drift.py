"""--check: drift between committed documents and what the parameters produce."""

import shutil

import pytest
from conftest import PARAMS, REPO
from test_batch_scale import project_tree

from opslib.cli import main
from opslib.run.drift import compare_documents, limit


def test_compare_documents(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        (d / "figures").mkdir(parents=True)
        (d / "run.json").write_text(str(d))  # run records are never compared
        (d / "same.md").write_text("same\n")
    (a / "doc.md").write_text("one\ntwo\n")
    (b / "doc.md").write_text("one\nthree\n")
    (a / "figures" / "x.png").write_bytes(b"\x89PNG\x00\xff1")
    (b / "figures" / "x.png").write_bytes(b"\x89PNG\x00\xff2")
    (b / "new.md").write_text("new\n")
    (a / "notebooks").mkdir()
    (a / "notebooks" / "n.ipynb").write_text("{}")  # executed notebooks are not documents
    diff = "".join(compare_documents(a, b, label="p"))
    assert "--- a/p/doc.md\n+++ b/p/doc.md\n" in diff and "-two\n+three\n" in diff
    assert "Binary files a/p/figures/x.png and b/p/figures/x.png differ" in diff
    assert "Only in the parameters' output: p/new.md" in diff
    assert "same.md" not in diff and "run.json" not in diff and "n.ipynb" not in diff
    assert compare_documents(a, a) == []
    assert limit([f"{i}\n" for i in range(10)], 3)[-1] == "… 7 more line(s) not shown\n"


@pytest.mark.slow
def test_render_check(tmp_path, capsys):
    (tmp_path / "parameters").mkdir()
    shutil.copy(PARAMS / "weather-api.yaml", tmp_path / "parameters")
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    params, out = tmp_path / "parameters" / "weather-api.yaml", tmp_path / "build"
    assert main(["render", str(params), "--out", str(out), "--check"]) == 1  # nothing committed yet
    assert "Only in the parameters' output" in capsys.readouterr().out
    assert not out.exists()  # check mode writes nothing

    assert main(["render", str(params), "--out", str(out)]) == 0
    assert main(["render", str(params), "--out", str(out), "--check"]) == 0
    assert "documents match the parameters" in capsys.readouterr().err

    runbook = out / "weather-api" / "runbook.md"
    runbook.write_text(runbook.read_text().replace("## Rollback", "## Rolling back"))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["render", str(params), "--out", str(out), "--check"]) == 1
    captured = capsys.readouterr()
    assert "-## Rolling back\n+## Rollback\n" in captured.out and "runbook.md" in captured.out
    assert "differ from what the parameters produce" in captured.err and "Traceback" not in captured.err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # untouched
    assert not list(out.glob(".*"))


@pytest.mark.kernel
def test_batch_check(tmp_path, capsys):
    params, nbdir = project_tree(tmp_path)
    out = tmp_path / "build"
    argv = ["batch", str(params), "--out", str(out), "--notebooks", str(nbdir), "--quiet", "--jobs", "1"]
    assert main(argv) == 0
    record = (out / "weather-api" / "run.json").read_bytes()
    capsys.readouterr()
    assert main([*argv, "--check"]) == 0
    assert "the documents in" in capsys.readouterr().out

    runbook = out / "weather-api" / "runbook.md"
    runbook.write_text(runbook.read_text().replace("## Rollback", "## Rolling back"))
    assert main([*argv, "--check"]) == 1
    captured = capsys.readouterr()
    assert "-## Rolling back\n+## Rollback\n" in captured.out
    assert "differ from what the parameters produce" in captured.err
    assert "## Rolling back" in runbook.read_text() and (out / "weather-api" / "run.json").read_bytes() == record
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build", "examples", "notebooks", "parameters"]  # temp folder gone

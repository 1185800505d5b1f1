"""--executor dask on a real (local) Dask cluster gives the same documents as the local executor."""

import distributed  # a dependency of opslib (the Dask executor)
import pytest
from test_batch_scale import project_tree

from opslib.run.batch import run_batch
from opslib.run.drift import document_files

pytestmark = pytest.mark.kernel



def test_dask_executor_matches_local(tmp_path):
    params, nbdir = project_tree(tmp_path)
    local = run_batch([params], nbdir, tmp_path / "local", jobs=1)
    assert [r.ok for r in local] == [True], local[0].error
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        results = run_batch([params], nbdir, tmp_path / "dask", jobs=1, executor="dask", scheduler=cluster.scheduler_address)
    assert [r.ok for r in results] == [True], results[0].error
    a, b = tmp_path / "local" / "weather-api", tmp_path / "dask" / "weather-api"
    docs = [p.relative_to(a) for p in document_files(a)]
    assert "runbook.md" in map(str, docs)
    assert docs == [p.relative_to(b) for p in document_files(b)]
    assert all((a / d).read_bytes() == (b / d).read_bytes() for d in docs)
    assert (b / "review" / "30-runbook.html").is_file() and (b / "notebooks" / "30-runbook.ipynb").is_file()
    assert not list((tmp_path / "dask").glob(".*"))

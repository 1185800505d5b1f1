"""Airflow: opslib batch fanned out over N shards with dynamic task mapping, then a drift check.

Each mapped task runs `opslib batch --shard I/N` (I = 0 … N-1, opslib's shards are 0-based);
any worker that has the repository checked out at OPSLIB_REPO and opslib installed can run
one. Shards write disjoint build/<project>/ folders, so they can share one output folder.
Airflow is not an opslib dependency: copy this file into your DAGs folder.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.decorators import dag, task
from airflow.operators.bash import BashOperator

SHARDS = int(os.environ.get("OPSLIB_SHARDS", "4"))
REPO = os.environ.get("OPSLIB_REPO", "/opt/opslib-params")   # checkout: parameters/, notebooks/, examples/
OUT = os.environ.get("OPSLIB_OUT", "/data/opslib/build")


@dag(dag_id="opslib_batch", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1,
     tags=["opslib"], doc_md=__doc__)
def opslib_batch():
    @task
    def shards() -> list[str]:
        return [f"{i}/{SHARDS}" for i in range(SHARDS)]

    build = BashOperator.partial(
        task_id="build_shard",
        cwd=REPO,
        bash_command='opslib batch parameters/ --out "$OUT" --jobs auto --quiet --shard "$SHARD"',
        append_env=True,
        retries=1,
    ).expand(env=shards().map(lambda s: {"OUT": OUT, "SHARD": s}))

    # exit 1 (the task fails) when the documents in OUT differ from what the parameters produce;
    # `opslib render --check` needs no kernel (seconds); `opslib batch --check` reruns the notebooks
    drift = BashOperator(task_id="drift_check", cwd=REPO, bash_command=f'opslib render parameters/ --out "{OUT}" --check')
    build >> drift


opslib_batch()

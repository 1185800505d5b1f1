"""Reading and aggregating a large FOCUS export: our DuckDB path (`opslib.focus.read_billing`,
text → normalised → grouped by day, tags, account, service and category in SQL) against
`pandas.read_csv` + groupby of the same file, median of `--repeat` runs each.

    .venv/bin/python benchmarks/actuals.py [--rows 1000000] [--repeat 3]

It also prints the peak resident memory of one run of each, in a fresh process.

The file (a FOCUS 1.1 CSV, ~90 days, 40 services, 3 environments plus another project, JSON
tags) is generated into a temporary folder by DuckDB and deleted afterwards; nothing is committed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = ("BilledCost, BillingAccountId, BillingCurrency, BillingPeriodStart, BillingPeriodEnd, ChargeCategory, ChargeClass, "
           "ChargeDescription, ChargePeriodStart, ChargePeriodEnd, EffectiveCost, ListCost, ProviderName, RegionId, ResourceId, "
           "ServiceCategory, ServiceSubcategory, ServiceName, SubAccountId, Tags")


def generate(path: Path, rows: int) -> None:
    import duckdb

    cats = "['Compute', 'Databases', 'Storage', 'Networking', 'Management and Governance']"
    subs = "['Virtual Machines', 'Relational Databases', 'Object Storage', 'Network Infrastructure', 'Observability']"
    envs = "['dev', 'staging', 'prod', 'prod']"
    sql = f"""
    COPY (
      SELECT round(0.01 + (hash(i) % 100000) / 10000.0, 6) AS BilledCost, '100000000000' AS BillingAccountId, 'USD' AS BillingCurrency,
        '2026-08-01T00:00:00Z' AS BillingPeriodStart, '2026-11-01T00:00:00Z' AS BillingPeriodEnd, 'Usage' AS ChargeCategory, '' AS ChargeClass,
        'usage of service ' || (i % 40) AS ChargeDescription,
        strftime(DATE '2026-08-01' + CAST(i % 92 AS INTEGER), '%Y-%m-%dT00:00:00Z') AS ChargePeriodStart,
        strftime(DATE '2026-08-02' + CAST(i % 92 AS INTEGER), '%Y-%m-%dT00:00:00Z') AS ChargePeriodEnd,
        round(0.01 + (hash(i) % 100000) / 10000.0, 6) AS EffectiveCost, round(0.02 + (hash(i) % 100000) / 9000.0, 6) AS ListCost,
        'AWS' AS ProviderName, 'us-east-1' AS RegionId, 'arn:aws:ec2:us-east-1:123456789012:instance/i-' || (i % 5000) AS ResourceId,
        {cats}[1 + i % 5] AS ServiceCategory, {subs}[1 + i % 5] AS ServiceSubcategory, 'Service ' || (i % 40) AS ServiceName,
        CAST(123456789000 + i % 3 AS VARCHAR) AS SubAccountId,
        CASE WHEN i % 10 = 0 THEN '{{"application":"data-lake","environment":"prod"}}'
             ELSE '{{"application":"shop-platform","environment":"' || {envs}[1 + i % 4] || '","team":"commerce"}}' END AS Tags
      FROM range({rows}) t(i)
    ) TO '{path}' (HEADER, DELIMITER ',')
    """
    con = duckdb.connect()
    con.execute(sql)
    con.close()


def ours(path: Path):
    from opslib.documents.billing import read_billing

    return read_billing([path]).daily


def with_pandas(path: Path):
    import pandas as pd

    usecols = ["BilledCost", "EffectiveCost", "BillingCurrency", "ChargeCategory", "ChargePeriodStart", "ServiceCategory",
               "ServiceSubcategory", "ServiceName", "SubAccountId", "Tags"]
    df = pd.read_csv(path, usecols=usecols, dtype=str, keep_default_na=True)
    df["day"] = df["ChargePeriodStart"].str.slice(0, 10)
    df["cost"] = pd.to_numeric(df["EffectiveCost"], errors="coerce").fillna(pd.to_numeric(df["BilledCost"], errors="coerce"))
    df["project"] = df["Tags"].str.extract(r'"application":"([^"]*)"', expand=False)
    df["env"] = df["Tags"].str.extract(r'"environment":"([^"]*)"', expand=False)
    return df.groupby(["day", "project", "env", "SubAccountId", "ServiceName", "ServiceCategory"], dropna=False)["cost"].agg(["sum", "count"]).reset_index()


def timed(fn, path: Path, repeat: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn(path)
        times.append(time.perf_counter() - started)
        n = len(out)
    return statistics.median(times), n


def peak_mb(which: str, path: Path) -> float:
    """Peak resident memory of one run in a fresh process (imports included)."""
    out = subprocess.run([sys.executable, __file__, "--one", which, str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--one", nargs=2, metavar=("WHICH", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        {"duckdb": ours, "pandas": with_pandas}[args.one[0]](Path(args.one[1]))
        # VmHWM: the high-water mark of this process image (ru_maxrss would carry the parent's over exec)
        hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:"))
        print(int(hwm.split()[1]) / 1024)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "focus.csv"
        started = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s")
        import duckdb  # noqa: F401  (imports outside the timings)
        import pandas  # noqa: F401

        from opslib.documents import billing as focus  # noqa: F401

        d, dn = timed(ours, path, args.repeat)
        p, pn = timed(with_pandas, path, args.repeat)
        print(f"duckdb (opslib.focus.read_billing, with normalisation): median {d:.2f} s of {args.repeat} runs → {dn:,} aggregate rows")
        print(f"pandas.read_csv + groupby:                             median {p:.2f} s of {args.repeat} runs → {pn:,} aggregate rows")
        print(f"ratio pandas / duckdb: {p / d:.1f}×")
        print(f"peak memory of one run (fresh process): duckdb {peak_mb('duckdb', path):.0f} MB, pandas {peak_mb('pandas', path):.0f} MB")


if __name__ == "__main__":
    main()

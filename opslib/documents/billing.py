"""Reading FinOps FOCUS cost-and-usage exports (1.0–1.2) with embedded DuckDB.

    billing_files(paths)                    -> [Path]   files named, and the CSV/Parquet files in folders named
    read_billing(paths, project_key, environment_key, cost_column) -> Billing

The rows never reach pandas: DuckDB reads every file (CSV, .csv.gz or Parquet) as text,
normalises it in SQL (null written as text, timestamps without `T`/`Z`, letter case, the cost
columns) and groups it by day, tags, account, service and cost category. Only that small
aggregate comes back as a DataFrame, with one note per kind of deviation it normalised.

Decisions:
- Cells are read as text and cast with TRY_CAST, so a malformed cell is counted, not fatal —
  except money: a BilledCost, EffectiveCost or ListCost that is present but not a finite
  number (`abc`, `inf`) stops the read with an InputError naming the file and the count; an
  unreadable cost is never counted as $0 (a third of the costs unreadable read as "within budget").
- A CSV whose rows do not all have the header's number of fields is rejected naming the first
  such row (DuckDB's sniffer otherwise reads it as one column: "mandatory columns missing").
- The day of a row is the date part of ChargePeriodStart (FOCUS timestamps are UTC).
- A file that lacks a mandatory column (opslib/data/focus-columns.yaml) is rejected with an
  InputError naming the file and the columns; apart from that and unreadable money, nothing
  about a file stops the read.
- Cost categories come from opslib/data/focus-categories.yaml as one SQL CASE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from opslib.catalog.loaders import DATA_DIR
from opslib.core.yamlio import read_yaml
from opslib.errors import InputError

__all__ = ["SUFFIXES", "Billing", "billing_files", "categories_catalog", "columns_catalog", "read_billing"]

SUFFIXES = (".csv", ".csv.gz", ".parquet")


@cache
def columns_catalog() -> dict:
    return read_yaml(DATA_DIR / "focus-columns.yaml", lines=False)


@cache
def categories_catalog() -> dict:
    return read_yaml(DATA_DIR / "focus-categories.yaml", lines=False)


@dataclass
class Billing:
    """The aggregate of the exports: one row per file, day, tags, account, service and category."""

    files: list[Path]
    daily: Any  # pandas.DataFrame: file, day, project_tag, env_tag, account, service, category, currency, cost, rows
    rows: int
    notes: list[str] = field(default_factory=list)


def _is_billing(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def billing_files(paths: list[str | Path]) -> list[Path]:
    """The files named and every CSV/Parquet export inside the folders named, sorted."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and _is_billing(f))
            if not found:
                raise InputError(f"{p}: no billing exports in this folder; put FOCUS .csv, .csv.gz or .parquet files there or name the files.")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"{p}: billing export not found; check the path (relative paths in actuals.billing start at the parameters file).")
    return list(dict.fromkeys(out))


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _source(path: Path) -> str:
    if path.name.lower().endswith(".parquet"):
        return f"read_parquet({_lit(str(path))})"
    return f"read_csv({_lit(str(path))}, all_varchar=true, header=true, auto_detect=true, compression='auto')"


def _ragged_row(path: Path) -> tuple[int, int, int] | None:
    """(line, fields, header fields) of the first CSV row whose field count differs from the header's."""
    import csv
    import gzip

    try:
        with (gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="") if path.name.lower().endswith(".gz")
              else path.open(encoding="utf-8", errors="replace", newline="")) as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            for row in reader:
                if header is not None and row and len(row) != len(header):
                    return reader.line_num, len(row), len(header)
    except (OSError, csv.Error, EOFError):
        return None
    return None


def _category_sql() -> str:
    cat = categories_catalog()
    whens = []
    for name, c in cat["service_names"].items():
        whens.append(f"WHEN lower(svc) = {_lit(name.lower())} THEN {_lit(c)}")
    for text, c in cat["descriptions"].items():
        whens.append(f"WHEN contains(lower(coalesce(descr, '')), {_lit(text.lower())}) THEN {_lit(c)}")
    for name, c in cat["service_subcategories"].items():
        whens.append(f"WHEN lower(subcat) = {_lit(name.lower())} THEN {_lit(c)}")
    for name, c in cat["service_categories"].items():
        whens.append(f"WHEN lower(scat) = {_lit(name.lower())} THEN {_lit(c)}")
    return "CASE " + " ".join(whens) + f" ELSE {_lit(cat['fallback'])} END"


def _file_select(con, idx: int, path: Path, project_key: str, environment_key: str, cost_column: str, notes: list[str]) -> str:
    import duckdb

    cat = columns_catalog()
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {_source(path)}").fetchall()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise InputError(f"{path}: cannot read it as a FOCUS export ({first}); pass a CSV, gzipped CSV or Parquet file.") from None
    types = {row[0]: str(row[1]).upper() for row in described}
    by_lower = {name.lower(): name for name in types}
    missing = [c for c in cat["required"] if c.lower() not in by_lower]
    ragged = _ragged_row(path) if missing and not path.name.lower().endswith(".parquet") else None
    if ragged:
        line, got, want = ragged
        raise InputError(f"{path}: line {line} has {got} field(s) where the header has {want}; fix that row of the export "
                         "(cut short, or a comma in an unquoted value).")
    if missing:
        raise InputError(f"{path}: not a FOCUS cost-and-usage export, the mandatory column(s) {', '.join(missing)} are missing; "
                         "export the FOCUS 1.0–1.2 columns or fix the header.")
    known = {k.lower() for k in cat["known"]}
    case_cols = sorted(by_lower[k.lower()] for k in cat["known"] if k.lower() in by_lower and by_lower[k.lower()] != k)
    if case_cols:
        notes.append(f"{path.name}: column name(s) in another letter case, read case-insensitively: {', '.join(case_cols)}")
    extra = sorted(n for n in types if n.lower() not in known and not n.startswith("x_"))
    if extra:
        notes.append(f"{path.name}: {len(extra)} column(s) outside FOCUS 1.0–1.2 without the x_ prefix, ignored: {', '.join(extra)}")
    nulls = ", ".join(_lit(s.upper()) for s in cat["null_text"])

    def raw(name: str) -> str:
        """The column as text, per row (no cleaning: that happens once per group)."""
        real = by_lower.get(name.lower())
        if real is None:
            return "CAST(NULL AS VARCHAR)"
        if types[real] == "VARCHAR":
            return _ident(real)
        if types[real].startswith(("MAP", "STRUCT")):
            return f"CAST(to_json({_ident(real)}) AS VARCHAR)"
        return f"CAST({_ident(real)} AS VARCHAR)"

    def number(name: str) -> str:
        """The cost as a finite number, else NULL (unreadable ones are counted by `unreadable`)."""
        real = by_lower.get(name.lower())
        if real is None:
            return "CAST(NULL AS DOUBLE)"
        value = f"TRY_CAST({_ident(real)} AS DOUBLE)"
        return f"CASE WHEN isfinite({value}) THEN {value} END"

    def unreadable(name: str) -> str:
        """1 for a cost cell that holds something (not empty, not null as text) that is not a finite number."""
        real = by_lower.get(name.lower())
        if real is None:
            return "0"
        c = _ident(real)
        if types[real] != "VARCHAR":
            return f"CASE WHEN {c} IS NOT NULL AND NOT isfinite(TRY_CAST({c} AS DOUBLE)) THEN 1 ELSE 0 END"
        return (f"CASE WHEN {c} IS NULL OR trim({c}) = '' OR upper(trim({c})) IN ({nulls}) THEN 0 "
                f"WHEN isfinite(TRY_CAST({c} AS DOUBLE)) THEN 0 ELSE 1 END")

    def cost_textnull(name: str) -> str:
        real = by_lower.get(name.lower())
        if real is None or types[real] != "VARCHAR":
            return "0"
        c = _ident(real)
        return f"CASE WHEN {c} IS NULL OR TRY_CAST({c} AS DOUBLE) IS NOT NULL THEN 0 WHEN upper(trim({c})) IN ({nulls}) THEN 1 ELSE 0 END"

    def clean(col: str) -> str:
        return f"CASE WHEN upper(trim({col})) IN ({nulls}) THEN NULL ELSE trim({col}) END"

    def textnull(col: str) -> str:
        return f"CASE WHEN {col} IS NOT NULL AND upper(trim({col})) IN ({nulls}) THEN 1 ELSE 0 END"

    cps_real = by_lower["chargeperiodstart"]
    cps = _ident(cps_real)
    if types[cps_real] == "VARCHAR":
        nonstd = (f"CASE WHEN {cps} IS NULL THEN 0 WHEN substr({cps}, 11, 1) = 'T' AND right({cps}, 1) = 'Z' THEN 0 "
                  f"WHEN upper(trim({cps})) IN ({nulls}) THEN 0 ELSE 1 END")
        day = f"CASE WHEN upper(trim({cps})) IN ({nulls}) THEN NULL ELSE substr(trim({cps}), 1, 10) END"
        cps_null = textnull(cps)
    else:
        nonstd, day, cps_null = "0", f"substr(CAST({cps} AS VARCHAR), 1, 10)", "0"
    primary = {"EffectiveCost": "e", "BilledCost": "b"}[cost_column]
    other = "b" if primary == "e" else "e"
    group_cols = {"tags_r": "Tags", "acct_r": "SubAccountId", "svc_r": "ServiceName", "scat_r": "ServiceCategory",
                  "subcat_r": "ServiceSubcategory", "ccat_r": "ChargeCategory", "descr_r": "ChargeDescription", "cur_r": "BillingCurrency"}

    def tag(key: str) -> str:
        paths = [f"$.{_ident(key)}", f"$.{_ident('user:' + key)}"]
        return "CASE WHEN json_valid(tags) THEN coalesce(" + ", ".join(f"json_extract_string(tags, {_lit(p)})" for p in paths) + ") END"

    # 1. per row: only casts and cheap flags, grouped by the raw text of the columns we use
    per_row = f"""
      SELECT {day} AS day_s, {", ".join(f"{raw(v)} AS {k}" for k, v in group_cols.items())},
        {number("BilledCost")} AS b, {number("EffectiveCost")} AS e, {number("ListCost")} AS l,
        {nonstd} AS nonstd, {cps_null} + {cost_textnull("BilledCost")} + {cost_textnull("EffectiveCost")} + {cost_textnull("ListCost")} AS tn,
        {unreadable("BilledCost")} + {unreadable("EffectiveCost")} + {unreadable("ListCost")} AS bad_money
      FROM {_source(path)}"""
    grouped = f"""
      SELECT day_s, {", ".join(group_cols)},
        sum(coalesce({primary}, {other})) AS cost, count(*) AS rows, sum(nonstd) AS nonstd_time, sum(tn) AS tn, sum(bad_money) AS bad_money,
        sum(CASE WHEN {primary} IS NULL AND {other} IS NOT NULL THEN 1 ELSE 0 END) AS cost_fallback,
        sum(CASE WHEN {primary} IS NULL AND {other} IS NULL THEN 1 ELSE 0 END) AS cost_missing,
        sum(CASE WHEN b IS NOT NULL AND e IS NOT NULL AND abs(b - e) > 0.005 THEN 1 ELSE 0 END) AS billed_ne_effective,
        sum(CASE WHEN b IS NOT NULL AND e IS NOT NULL THEN b - e ELSE 0 END) AS billed_minus_effective,
        sum(CASE WHEN l IS NOT NULL AND e IS NOT NULL AND e > l + 0.005 THEN 1 ELSE 0 END) AS effective_over_list
      FROM ({per_row}) GROUP BY ALL"""
    # 2. per group: clean the text, read the tags, map the category
    cleaned = f"""
      SELECT *, {" + ".join(textnull(k) for k in group_cols)} AS tn_groups,
        {clean("tags_r")} AS tags, {clean("acct_r")} AS account, {clean("svc_r")} AS svc, {clean("scat_r")} AS scat,
        {clean("subcat_r")} AS subcat, {clean("ccat_r")} AS ccat, {clean("descr_r")} AS descr, {clean("cur_r")} AS currency
      FROM ({grouped})"""
    return f"""
    SELECT {idx} AS file, TRY_CAST(day_s AS DATE) AS day,
      trim({tag(project_key)}) AS project_tag, trim({tag(environment_key)}) AS env_tag,
      account, svc AS service, scat AS service_category, ccat AS charge_category, currency,
      {_category_sql()} AS category,
      cost, rows, nonstd_time,
      CASE WHEN TRY_CAST(day_s AS DATE) IS NULL THEN rows ELSE 0 END AS bad_time,
      cost_fallback, cost_missing, billed_ne_effective, billed_minus_effective, effective_over_list,
      CASE WHEN tags IS NOT NULL AND NOT json_valid(tags) THEN rows ELSE 0 END AS bad_tags,
      tn + rows * tn_groups AS text_nulls, bad_money
    FROM ({cleaned})"""


def read_billing(paths: list[str | Path], project_key: str = "application", environment_key: str = "environment",
                 cost_column: str = "EffectiveCost") -> Billing:
    """Read and normalise the exports; return the daily aggregate and what was normalised."""
    import duckdb

    files = billing_files(paths)
    if not files:
        raise InputError("no billing exports given; pass FOCUS .csv, .csv.gz or .parquet files or folders.")
    notes: list[str] = []
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    try:
        selects = [_file_select(con, i, f, project_key, environment_key, cost_column, notes) for i, f in enumerate(files)]
        sql = f"""
        SELECT file, day, project_tag, env_tag, account, service, service_category, charge_category, currency, category,
          sum(cost) AS cost, sum(rows) AS rows, sum(nonstd_time) AS nonstd_time, sum(bad_time) AS bad_time,
          sum(cost_fallback) AS cost_fallback, sum(cost_missing) AS cost_missing, sum(billed_ne_effective) AS billed_ne_effective,
          sum(billed_minus_effective) AS billed_minus_effective, sum(effective_over_list) AS effective_over_list,
          sum(bad_tags) AS bad_tags, sum(text_nulls) AS text_nulls, sum(bad_money) AS bad_money
        FROM ({" UNION ALL ".join(selects)})
        GROUP BY ALL
        """
        try:
            daily = con.execute(sql).df()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise InputError(f"{', '.join(map(str, files))}: cannot read the billing rows ({first}); check the files are complete FOCUS exports.") from None
    finally:
        con.close()
    for i, f in enumerate(files):
        bad = int(daily.loc[daily["file"] == i, "bad_money"].sum()) if len(daily) else 0
        if bad:
            raise InputError(f"{f}: {bad:,} BilledCost, EffectiveCost or ListCost value(s) are not finite numbers; fix or re-export "
                             "the file (an unreadable cost is never counted as $0).")
    notes += _notes(daily, files, cost_column)
    return Billing(files=files, daily=daily, rows=int(daily["rows"].sum()) if len(daily) else 0, notes=notes)


def _notes(daily, files: list[Path], cost_column: str) -> list[str]:
    out: list[str] = []
    other = "BilledCost" if cost_column == "EffectiveCost" else "EffectiveCost"
    for i, f in enumerate(files):
        d = daily[daily["file"] == i]
        s = {k: int(d[k].sum()) for k in ("rows", "text_nulls", "nonstd_time", "bad_time", "cost_fallback", "cost_missing",
                                          "billed_ne_effective", "effective_over_list", "bad_tags")}
        if s["text_nulls"]:
            out.append(f"{f.name}: {s['text_nulls']} cell(s) held null as text (\"null\", \"NULL\", …), read as empty")
        if s["nonstd_time"]:
            out.append(f"{f.name}: {s['nonstd_time']} ChargePeriodStart value(s) not in ISO 8601 UTC form (YYYY-MM-DDTHH:MM:SSZ), read by their date")
        if s["bad_time"]:
            lost = float(d.loc[d["day"].isna(), "cost"].sum())
            out.append(f"{f.name}: {s['bad_time']} row(s) without a readable ChargePeriodStart, left out of the daily figures (${lost:,.2f})")
        if s["cost_fallback"]:
            out.append(f"{f.name}: {s['cost_fallback']} row(s) without {cost_column}, {other} used instead")
        if s["cost_missing"]:
            out.append(f"{f.name}: {s['cost_missing']} row(s) with neither {cost_column} nor {other}, counted as unknown (not $0) and left out")
        if s["billed_ne_effective"]:
            diff = float(d["billed_minus_effective"].sum())
            out.append(f"{f.name}: {s['billed_ne_effective']} row(s) where BilledCost and EffectiveCost disagree "
                       f"(BilledCost − EffectiveCost = ${diff:,.2f} in total); the report sums {cost_column}")
        if s["effective_over_list"]:
            out.append(f"{f.name}: {s['effective_over_list']} row(s) with EffectiveCost above ListCost (inconsistent export); {cost_column} used as it is")
        if s["bad_tags"]:
            out.append(f"{f.name}: {s['bad_tags']} row(s) whose Tags is not a JSON object, read as untagged")
        if not s["rows"]:
            out.append(f"{f.name}: no rows")
    for column, label in (("service", "ServiceName"), ("service_category", "ServiceCategory"), ("charge_category", "ChargeCategory"),
                          ("project_tag", "project tag value"), ("env_tag", "environment tag value")):
        vals = daily.dropna(subset=[column]).groupby(column)["rows"].sum()
        groups: dict[str, list[tuple[str, int]]] = {}
        for v, n in vals.items():
            groups.setdefault(str(v).lower(), []).append((str(v), int(n)))
        for variants in groups.values():
            if len(variants) > 1:
                variants.sort(key=lambda x: (-x[1], x[0]))
                out.append(f"{label} {variants[0][0]!r} also written as {', '.join(repr(v) for v, _ in variants[1:])} "
                           f"({sum(n for _, n in variants[1:])} row(s)); counted together")
    currencies = sorted({str(c) for c in daily["currency"].dropna().unique()})
    if any(c.upper() != "USD" for c in currencies):
        out.append(f"BillingCurrency {', '.join(currencies)}: amounts are summed as they are, not converted; the budgets are in USD")
    return out

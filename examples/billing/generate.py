"""Generate the example FOCUS 1.1 billing export of shop-platform (deterministic).

    .venv/bin/python examples/billing/generate.py     # writes examples/billing/shop-platform/focus-2026-08-2026-10.csv.gz

Three months (August to October 2026) of daily AWS cost-and-usage rows in the FOCUS 1.1 column
set, one row per day, environment and service, shaped after the cost plan of
parameters/shop-platform.yaml:

- August runs close to the estimate; from September prod runs six nodes instead of five;
- on 2026-10-09 someone leaves an m5.2xlarge node on in dev: dev crosses its 70%, 90%
  and 100% budget thresholds in October (seed 000, scenario 4: the bill exceeds the budget);
- on 2026-10-21 a misbehaving image-pull loop sends ~4 TB through the prod NAT gateways: one
  anomalous day, driven by Amazon Virtual Private Cloud (NAT data processed);
- staging lives in its own account (attributed by actuals.accounts), AWS Support is billed
  untagged (actuals.services), untagged EBS snapshots stay unattributed, and a data-lake
  project shares the prod account (tagged as another project);
- variable costs (requests, transfer, autoscaled nodes) follow a weekly pattern; a few cells
  hold null as text and one service name arrives in another letter case, as real exports do.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).parent / "shop-platform" / "focus-2026-08-2026-10.csv.gz"
SEED = 20261102
START, END = date(2026, 8, 1), date(2026, 10, 31)
ACCOUNTS = {"dev": "210987654321", "staging": "345678901234", "prod": "123456789012"}
COLUMNS = [
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "RegionId", "ServiceCategory", "ServiceName", "ServiceSubcategory",
    "SubAccountId", "SubAccountName", "Tags", "x_UsageType",
]
# (service name, category, subcategory, description, monthly USD per environment, weekly pattern?)
SERVICES = [
    ("Amazon Elastic Container Service for Kubernetes", "Compute", "Containers", "EKS cluster hours", {"dev": 73, "staging": 73, "prod": 73}, False),
    ("Amazon Elastic Compute Cloud", "Compute", "Virtual Machines", "m5.large On Demand Linux instance hours", {"dev": 70.1, "staging": 140.2, "prod": 350.4}, True),
    ("Amazon Relational Database Service", "Databases", "Relational Databases", "RDS PostgreSQL instance hours and gp3 storage", {"dev": 25.7, "staging": 29.2, "prod": 246.2}, False),
    ("Amazon ElastiCache", "Databases", "Caching", "ElastiCache Redis node hours", {"dev": 12.4, "staging": 12.4, "prod": 49.6}, False),
    ("Elastic Load Balancing", "Networking", "Network Infrastructure", "Application Load Balancer hours and LCUs", {"dev": 16.4, "staging": 16.4, "prod": 17.5}, False),
    ("Amazon Virtual Private Cloud", "Networking", "Network Infrastructure", "NAT Gateway hours", {"dev": 32.9, "staging": 32.9, "prod": 65.7}, False),
    ("Amazon Virtual Private Cloud", "Networking", "Network Infrastructure", "$0.045 per GB Data Processed by NAT Gateways", {"dev": 0.4, "staging": 0.9, "prod": 9.5}, True),
    ("AWS Data Transfer", "Networking", "Network Connectivity", "Data transfer out to the internet", {"dev": 0.4, "staging": 1.8, "prod": 47.0}, True),
    ("Amazon CloudFront", "Networking", "Content Delivery", "CloudFront requests and data transfer out", {"prod": 118.0}, True),
    ("Amazon Simple Storage Service", "Storage", "Object Storage", "S3 Standard storage and requests", {"prod": 7.4}, False),
    ("Amazon Elastic Container Registry", "Storage", "Object Storage", "ECR image storage", {"prod": 5.2}, False),
]
WEEKLY = [1.08, 1.1, 1.1, 1.08, 1.04, 0.8, 0.8]  # Monday … Sunday


def _money(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") if x else "0"


def rows() -> list[dict]:
    rnd = random.Random(SEED)
    out: list[dict] = []

    def add(day: date, service, cat, sub, desc, cost: float, env: str | None, account: str, tags: dict | None, list_factor: float = 1.0):
        month0 = day.replace(day=1)
        month1 = (month0 + timedelta(days=32)).replace(day=1)
        out.append({
            "BilledCost": _money(cost), "BillingAccountId": "123456789012", "BillingAccountName": "acme-payer", "BillingCurrency": "USD",
            "BillingPeriodEnd": f"{month1}T00:00:00Z", "BillingPeriodStart": f"{month0}T00:00:00Z", "ChargeCategory": "Usage",
            "ChargeClass": "", "ChargeDescription": desc, "ChargeFrequency": "Usage-Based",
            "ChargePeriodEnd": f"{day + timedelta(days=1)}T00:00:00Z", "ChargePeriodStart": f"{day}T00:00:00Z",
            "ConsumedQuantity": "", "ConsumedUnit": "", "ContractedCost": _money(cost), "EffectiveCost": _money(cost),
            "InvoiceIssuerName": "Amazon Web Services, Inc.", "ListCost": _money(cost * list_factor), "PricingQuantity": "", "PricingUnit": "",
            "ProviderName": "AWS", "PublisherName": "Amazon Web Services, Inc.", "RegionId": "us-east-1", "ServiceCategory": cat,
            "ServiceName": service, "ServiceSubcategory": sub, "SubAccountId": account,
            "SubAccountName": {v: k for k, v in ACCOUNTS.items()}.get(account, "shared"),
            "Tags": json.dumps(tags, separators=(",", ":"), sort_keys=True) if tags is not None else "",
            "x_UsageType": desc.split(" ")[0],
        })

    day = START
    while day <= END:
        for service, cat, sub, desc, monthly, weekly in SERVICES:
            for env, usd in monthly.items():
                daily = usd * 12 / 365
                if weekly:
                    daily *= WEEKLY[day.weekday()]
                if env == "prod" and service == "Amazon Elastic Compute Cloud" and day >= date(2026, 9, 1):
                    daily *= 6 / 5  # the autoscaler settles at six nodes
                if env == "dev" and service == "Amazon Elastic Compute Cloud" and day >= date(2026, 10, 9):
                    daily += 0.384 * 24  # an m5.2xlarge left on
                if env == "prod" and "NAT" in desc and "Data" in desc and day == date(2026, 10, 21):
                    daily += 4000 * 0.045  # image-pull loop through the NAT gateways
                daily *= 1 + rnd.gauss(0, 0.02)
                tags = {"application": "shop-platform", "environment": env, "team": "commerce"}
                if env == "staging":
                    tags.pop("environment")  # staging has its own account: actuals.accounts attributes it
                add(day, service, cat, sub, desc, daily, env, ACCOUNTS[env], tags, 1.0)
        add(day, "AWS Support (Business)", "Other", "Support", "AWS Support (Business) fee", 100 * 12 / 365, None, ACCOUNTS["prod"], None)
        add(day, "Amazon Elastic Compute Cloud", "Compute", "Virtual Machines", "EBS snapshot storage", 1.5 * (1 + rnd.gauss(0, 0.02)), None,
            ACCOUNTS["prod"], None)
        add(day, "Amazon Elastic Compute Cloud", "Compute", "Virtual Machines", "m5.2xlarge On Demand Linux instance hours",
            40 * (1 + rnd.gauss(0, 0.02)), None, ACCOUNTS["prod"], {"application": "data-lake", "environment": "prod"})
        day += timedelta(days=1)
    # what real exports look like: null written as text, a service name in another letter case
    for i in range(5, len(out), 97):
        out[i]["ServiceSubcategory"] = "null"
    out[11]["ServiceName"] = out[11]["ServiceName"].upper()
    return out


def main() -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    OUT.write_bytes(raw.getvalue())
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()

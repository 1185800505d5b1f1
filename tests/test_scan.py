"""Scanning for secrets: recall per provider on fake tokens built at test time, no false
positives on clean trees, notebooks through cells and outputs, the cross-check, and an
end-to-end scan of everything opslib writes for one example project."""

import base64
import hashlib
import json
import random
import string

import nbformat
import pytest
from conftest import PARAMS, REPO
from nbformat.v4 import new_code_cell, new_notebook, new_output

from opslib import load_params
from opslib.check.scan import cross_check, env_reads, precommit_config, scan_paths, scan_text
from opslib.cli import main

RNG = random.Random(20261102)
ALNUM = string.ascii_letters + string.digits


def _r(n, alphabet=ALNUM):
    return "".join(RNG.choice(alphabet) for _ in range(n))


def _jwt():
    def enc(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return ".".join([enc({"alg": "HS" + "256", "typ": "JWT"}), enc({"sub": _r(8), "iat": 1700000000}), _r(43, ALNUM + "-_")])


# Fake tokens are assembled from pieces here, so no realistic key is ever committed.
FAKES = {
    "aws": lambda: "AK" + "IA" + _r(16, string.ascii_uppercase + "234567"),
    "github": lambda: "gh" + "p_" + _r(36),
    "github-fine-grained": lambda: "github" + "_pat_" + _r(22) + "_" + _r(59),
    "gitlab": lambda: "gl" + "pat-" + _r(20, ALNUM + "-_"),
    "slack": lambda: "xo" + "xb-" + _r(11, string.digits) + "-" + _r(12, string.digits) + "-" + _r(24),
    "stripe": lambda: "sk" + "_live_" + _r(24),
    "openai": lambda: "sk-" + "proj-" + _r(20) + "T3Blbk" + "FJ" + _r(20),
    "anthropic": lambda: "sk-" + "ant-api03-" + _r(80, ALNUM + "-_"),
    "vault": lambda: "hv" + "s." + _r(90, ALNUM + "_-"),
    "huggingface": lambda: "h" + "f_" + _r(34),
    "databricks": lambda: "da" + "pi" + _r(32, "0123456789abcdef"),
    "gcp": lambda: "AI" + "za" + _r(35, ALNUM + "_-"),
    "sendgrid": lambda: "S" + "G." + _r(22, ALNUM + "_-") + "." + _r(43, ALNUM + "_-"),
    "jwt": _jwt,
    "credentials-in-url": lambda: "postgresql://app:" + _r(20) + "@db.internal:5432/shop",
}
EXPECTED_PROVIDER = {"github-fine-grained": "github"}
CONTEXTS = [
    lambda t: f'API_TOKEN = "{t}"\n',
    lambda t: f"settings:\n  upstream_token: {t}\n",
    lambda t: f'{{"config": {{"token": "{t}"}}}}\n',
    lambda t: f"export SERVICE_CREDENTIAL='{t}'\n",
]
SUFFIX = [".py", ".yaml", ".json", ".sh"]
PER_PROVIDER = 8


def _private_key():
    body = "\n".join(_r(64, ALNUM + "+/") for _ in range(4))
    return "-----BEGIN " + "RSA PRIVATE KEY-----\n" + body + "\n-----END " + "RSA PRIVATE KEY-----\n"


@pytest.fixture(scope="module")
def leaky_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("leaky")
    planted = []  # (file, provider, token)
    for provider, make in FAKES.items():
        for i in range(PER_PROVIDER):
            token = make()
            c = i % len(CONTEXTS)
            name = f"{provider}-{i}{SUFFIX[c]}"
            (root / name).write_text("# config\n" + CONTEXTS[c](token))
            planted.append((name, EXPECTED_PROVIDER.get(provider, provider), token))
    for i in range(PER_PROVIDER):
        (root / f"key-{i}.pem").write_text(_private_key())
        planted.append((f"key-{i}.pem", "private-key", None))
    # a notebook with a token in a cell output only
    token = FAKES["vault"]()
    nb = new_notebook(cells=[new_code_cell("print(client.token)", outputs=[new_output("stream", name="stdout", text=token + "\n")])])
    nbformat.write(nb, str(root / "leak.ipynb"))
    planted.append(("leak.ipynb", "vault", token))
    return root, planted


@pytest.fixture(scope="module")
def leaky_scan(leaky_tree):
    root, planted = leaky_tree
    return scan_paths(root, workers=2)


def test_recall_per_provider(leaky_tree, leaky_scan, capsys):
    root, planted = leaky_tree
    found = {(f.file, f.provider) for f in leaky_scan}
    recall = {}
    for file, provider, _t in planted:
        hits = recall.setdefault(provider, [0, 0])
        hits[1] += 1
        hits[0] += (file, provider) in found
    with capsys.disabled():
        print("\nrecall per provider: " + ", ".join(f"{p} {h}/{n}" for p, (h, n) in sorted(recall.items())))
    low = {p: f"{h}/{n}" for p, (h, n) in recall.items() if h / n < 1.0}
    assert not low, low


def test_findings_carry_hash_not_value(leaky_tree, leaky_scan, capsys):
    root, planted = leaky_tree
    blob = json.dumps([f.as_dict() for f in leaky_scan])
    for _f, _p, token in planted:
        if token:
            assert token not in blob
    aws = next(t for f, p, t in planted if p == "aws")
    assert hashlib.sha1(aws.encode()).hexdigest() in blob
    assert all(f.rotate_url.startswith("https://") for f in leaky_scan)
    code = main(["scan-secrets", str(root), "--format", "json"])
    out = capsys.readouterr().out
    assert code == 1 and not any(t and t in out for _f, _p, t in planted)
    assert json.loads(out)["findings"]


def test_notebook_output_scanned_through_nbformat(leaky_scan):
    hits = [f for f in leaky_scan if f.file == "leak.ipynb"]
    assert [(h.provider, h.where) for h in hits] == [("vault", "cell 1 output")]


def _clean_tree(root):
    (root / "app.py").write_text(
        'import os\n\nDATABASE_URL = os.environ["DATABASE_URL"]\nkey = os.getenv("OWM_API_KEY")\n'
        'IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/orders-api"\n'
        'QUERY = \'sum(rate(http_requests_total{status=~"5.."}[5m]))\'\nSCHEDULE = "https://acme.pagerduty.com/schedules/P7SHP41"\n'
        'REQUEST_ID = "6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b"\nARN = "arn:aws:sqs:us-east-1:123456789012:agent-orchestrator-prod-task-runner"\n'
    )
    (root / "lock.json").write_text(json.dumps({"packages": {f"pkg{i}": {"integrity": "sha512-" + base64.b64encode(hashlib.sha512(str(i).encode()).digest()).decode(),
                                                                         "sha256": hashlib.sha256(str(i).encode()).hexdigest()} for i in range(20)}}))
    (root / "deploy.yaml").write_text("env:\n  - name: DATABASE_URL\n    valueFrom: {secretKeyRef: {name: orders-api-secrets, key: database-url}}\nexternal_secret: orders-api-secrets\npassword_file: /run/secrets/db-password\n")
    nb = new_notebook(cells=[new_code_cell("import matplotlib", outputs=[new_output("display_data", data={"image/png": base64.b64encode(bytes(range(256)) * 40).decode(), "text/plain": "<Figure size 640x480>"})])])
    nbformat.write(nb, str(root / "chart.ipynb"))
    (root / "README.md").write_text("Set `OWM_API_KEY` from the secret store; format postgresql://username:password@host:5432/db\n")


def test_no_false_positives_on_clean_tree(tmp_path):
    _clean_tree(tmp_path)
    assert scan_paths(tmp_path) == []


def test_no_false_positives_on_examples_and_catalogs():
    files = sorted(PARAMS.glob("*.yaml")) + sorted((REPO / "opslib" / "data").rglob("*.yaml")) + sorted((REPO / "opslib" / "templates").glob("*.j2"))
    assert scan_paths(REPO, files, workers=2) == []


def test_cross_check(tmp_path):
    _clean_tree(tmp_path)
    fake = "sk" + "_live_" + _r(24)
    (tmp_path / "pay.py").write_text(f'import os\nSTRIPE_TOKEN = os.environ.get("STRIPE_TOKEN")\nOWM_API_KEY = "{fake}"\n')
    params = load_params(PARAMS / "weather-api.yaml")
    findings = scan_paths(tmp_path)
    check = cross_check(tmp_path, params, findings)
    assert [v for v, _f in check.declared_hardcoded] == ["OWM_API_KEY"]
    assert set(check.undeclared_env_vars) == {"DATABASE_URL", "STRIPE_TOKEN"}
    assert check.unreferenced_secrets == ["HEROKU_API_KEY", "REDIS_URL"]
    assert all(fake not in p for p in check.problems())


def test_env_reads_across_languages(tmp_path):
    (tmp_path / "a.js").write_text("const k = process.env.API_KEY; const t = process.env['SLACK_TOKEN'];\n")
    (tmp_path / "b.go").write_text('v := os.Getenv("DB_PASSWORD")\n')
    (tmp_path / "c.rb").write_text('ENV.fetch("RAILS_MASTER_KEY")\n')
    assert set(env_reads(tmp_path)) == {"API_KEY", "SLACK_TOKEN", "DB_PASSWORD", "RAILS_MASTER_KEY"}


def test_exit_codes(tmp_path, capsys):
    _clean_tree(tmp_path)
    assert main(["scan-secrets", str(tmp_path), "--params", str(PARAMS / "weather-api.yaml")]) == 0
    assert main(["scan-secrets", str(tmp_path / "missing")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_precommit_config_runs_detect_secrets_and_opslib():
    from ruamel.yaml import YAML

    cfg = YAML(typ="safe").load(precommit_config("parameters/shop-platform.yaml"))
    assert cfg["repos"][0]["repo"] == "https://github.com/Yelp/detect-secrets"
    assert cfg["repos"][1]["hooks"][0]["args"] == [".", "--params", "parameters/shop-platform.yaml"]


@pytest.mark.kernel
def test_everything_opslib_writes_is_free_of_secrets(tmp_path):
    """End to end: one example project through the batch run (documents, executed notebooks,
    HTML exports, run.json); the scan of the whole output finds nothing."""
    from opslib.run.batch import run_batch

    results = run_batch([PARAMS / "weather-api.yaml"], REPO / "notebooks", tmp_path, jobs=1, force=True)
    assert all(r.ok for r in results), [r.describe() for r in results]
    out = tmp_path / "weather-api"
    written = {p.name for p in out.rglob("*") if p.is_file()}
    assert {"secrets.md", ".env.example", ".pre-commit-config.yaml"} <= written, written
    assert any(n.endswith(".html") for n in written) and any(n.endswith(".ipynb") for n in written)
    findings = scan_paths(out, sorted(p for p in out.rglob("*") if p.is_file()))
    assert findings == [], [f.describe() for f in findings]
    assert scan_text("\n".join(r.describe() for r in results)) == []

import shutil

import pytest
from conftest import EXAMPLES, FIXTURES, PARAMS, REPO

from opslib import ParamsError, load_params, params_hash
from opslib.errors import InputError
from opslib.params.models import ProjectParams


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_are_valid(name):
    params = load_params(PARAMS / f"{name}.yaml")
    assert params.project.name == name
    assert [e.name for e in params.environments] == ["dev", "staging", "prod"]


def test_the_examples_ship():
    assert EXAMPLES == ["agent-orchestrator", "merchant-digest", "shop-platform", "sms-notifier", "weather-api"]


MANY = FIXTURES / "bad-params" / "many-mistakes.yaml"


@pytest.fixture(scope="module")
def many_problems():
    with pytest.raises(ParamsError) as info:
        load_params(MANY)
    return info.value.problems


@pytest.mark.parametrize(
    "expected",
    [
        "unknown key; remove it or fix its spelling",
        "replicas.min: input should be a valid integer",
        "must be ≥ min",
        "is named twice",
        "does not exist (relative to the parameters file)",
        "a latency SLO needs threshold_ms",
        "after_minutes must strictly increase",
    ],
)
def test_every_mistake_is_reported_at_once(many_problems, expected):
    assert any(expected in p for p in many_problems), "\n".join(many_problems)


def test_problems_name_line_and_field_path(many_problems):
    assert len(many_problems) >= 7
    for p in many_problems:
        assert p.startswith("line ") or ":" in p.split(" ")[0], p


def test_message_names_file_and_what_to_do():
    with pytest.raises(ParamsError) as info:
        load_params(MANY)
    first = str(info.value).splitlines()[0]
    assert str(MANY) in first and "opslib validate" in first


def test_yaml_syntax_error_names_line():
    with pytest.raises(InputError, match=r"not-yaml\.yaml:\d+: invalid YAML"):
        load_params(FIXTURES / "bad-params" / "not-yaml.yaml")


def test_missing_file():
    with pytest.raises(InputError, match="file not found"):
        load_params(PARAMS / "nope.yaml")


def _variant(tmp_path, edit):
    """A copy of weather-api.yaml (with its example docs reachable) after `edit`."""
    from ruamel.yaml import YAML

    yaml = YAML()
    data = yaml.load((PARAMS / "weather-api.yaml").read_text())
    edit(data)
    (tmp_path / "parameters").mkdir(exist_ok=True)
    shutil.copytree(REPO / "examples", tmp_path / "examples", dirs_exist_ok=True)
    path = tmp_path / "parameters" / "variant.yaml"
    with path.open("w") as fh:
        yaml.dump(data, fh)
    return path


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda d: d.__setitem__("platform", "mainframe"), "platform: unknown platform 'mainframe'; use one of: "),
        (lambda d: d.__setitem__("schema_version", 7), "schema_version: this opslib reads version 1"),
        (lambda d: d["deploy"].__setitem__("strategy", "canary"), "deploy.strategy: heroku has no 'canary' procedure"),
        (lambda d: d["environments"][0].__setitem__("target", {"namespace": "x"}), "environments[0].target: unknown key(s) namespace"),
        (lambda d: d["environments"][0].__setitem__("url", "staging.example.com"), "environments[0].url: must be an http(s) URL"),
        (lambda d: d["services"][0].__setitem__("port", 70000), "services[0].port: input should be less than or equal to 65535"),
        (lambda d: d["project"].__setitem__("name", "Weather API"), "project.name: must be lower-case letters"),
        (lambda d: d["deploy"].__setitem__("canary_steps", [50, 10]), "deploy.canary_steps: must be increasing"),
        (lambda d: d["project"].pop("team"), "project.team: missing; add it"),
    ],
)
def test_single_mistakes(tmp_path, edit, expected):
    with pytest.raises(ParamsError) as info:
        load_params(_variant(tmp_path, edit))
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_hash_ignores_formatting(tmp_path):
    a = load_params(PARAMS / "weather-api.yaml")
    b = load_params(_variant(tmp_path, lambda d: None))
    assert params_hash(a) == params_hash(b)


def _fields(schema, defs, path="", seen=None):
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}{name}", prop
        ref = prop.get("$ref") or next((x.get("$ref") for x in prop.get("anyOf", []) + [prop.get("items", {})] if x.get("$ref")), None)
        if ref:
            key = ref.split("/")[-1]
            if key not in (seen or set()):
                yield from _fields(defs[key], defs, f"{path}{name}.", (seen or set()) | {key})


def test_every_field_has_a_description():
    schema = ProjectParams.model_json_schema()
    fields = list(_fields(schema, schema["$defs"]))
    assert len(fields) > 50
    missing = [name for name, prop in fields if not prop.get("description")]
    assert not missing, missing

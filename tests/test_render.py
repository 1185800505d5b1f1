from pathlib import Path

import pytest
from jinja2 import nodes

import opslib
from opslib.core.formatting import number
from opslib.core.templates import environment, render_string
from opslib.errors import CatalogError


def test_catalog_strings_keep_newlines_after_blocks():
    # a trimmed newline once glued two commands together: "--query Xaws lambda wait"
    src = "aws lambda update-function-code{% if true %} --publish{% endif %}\naws lambda wait function-updated"
    assert render_string(src, {}) == "aws lambda update-function-code --publish\naws lambda wait function-updated"


def test_catalog_strings_are_strict():
    with pytest.raises(CatalogError, match=r"platforms/x\.yaml: template .* uses an unknown field"):
        render_string("kubectl -n {{ target.namespace }} get pods", {"target": {}}, "platforms/x.yaml")


def test_shell_variables_pass_through():
    assert render_string('git push "${VERSION}^{commit}:refs/heads/main"', {}) == 'git push "${VERSION}^{commit}:refs/heads/main"'


@pytest.mark.parametrize("value, text", [(99.9, "99.9"), (95.0, "95"), (100 - 99.9, "0.1"), (14.4 * 0.1, "1.44"), (43.2, "43.2")])
def test_number(value, text):
    assert number(value) == text


ARITHMETIC = (nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow, nodes.Neg, nodes.Pos)
COMPUTING_FILTERS = {"format", "round", "sum", "int", "float", "abs", "max", "min"}


@pytest.mark.parametrize("template", sorted(p.name for p in (Path(opslib.__file__).parent / "templates").glob("*.j2")))
def test_templates_do_not_compute(template):
    """Templates loop and look up: arithmetic, number formatting and step offsets belong in the
    model and in the filters of opslib.core.formatting."""
    env = environment()
    tree = env.parse(env.loader.get_source(env, template)[0])
    # a negative literal (environments[-1]) is a lookup, not arithmetic
    arithmetic = [type(n).__name__ for n in tree.find_all(ARITHMETIC) if not (isinstance(n, nodes.Neg) and isinstance(n.node, nodes.Const))]
    filters = sorted({n.name for n in tree.find_all(nodes.Filter)} & COMPUTING_FILTERS)
    assert not arithmetic and not filters, f"{template}: computes ({', '.join(arithmetic + filters)})"

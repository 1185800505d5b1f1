import pytest

from opslib.errors import CatalogError
from opslib.core.templates import number, render_string


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

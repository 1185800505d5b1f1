"""The layer rules of tests/test_layers.py for the check room alone (the other rooms are being
moved in parallel): opslib.check imports only lower rooms and its own modules, never inside a
function, takes no private names and only names in the target module's __all__."""

import pytest
from test_layers import RANK, _public, imports, modules, room

CHECK = [(i, t, n, line, inner) for i, t, n, line, inner in imports() if room(i) == "check"]


def test_the_check_room_has_modules():
    assert {m for m in modules() if room(m) == "check"} >= {"opslib.check.genres", "opslib.check.items", "opslib.check.secrets"}


@pytest.mark.parametrize("rule", ["down", "module level", "no private names", "public names"])
def test_check_room_follows_the_layer_rules(rule):
    wrong = []
    for importer, target, name, line, inner in CHECK:
        where = f"{importer}:{line} imports {target}{'.' + name if name else ''}"
        if rule == "down" and room(target) not in ("check", "__init__") and RANK[room(target)] >= RANK["check"]:
            wrong.append(where)
        elif rule == "module level" and inner:
            wrong.append(where)
        elif rule == "no private names" and name and name.startswith("_") and not name.startswith("__"):
            wrong.append(where)
        elif rule == "public names" and name and target in modules() and name not in (_public(target) or set()):
            wrong.append(where)
    assert not wrong, "\n".join(wrong)

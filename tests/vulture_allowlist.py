"""Names vulture reports as unused (at ≥ 80 % confidence) that are used, in vulture's whitelist
format: each expression below marks its name as used. Read by tests/test_lint.py:

    vulture opslib tests/vulture_allowlist.py --min-confidence 80

Add a name only when the code needs it and vulture cannot see the use; say where and why.
"""
# ruff: noqa: F821, B018 — a whitelist is a list of bare names, never run

cls  # the first parameter of pydantic's @field_validator / @model_validator(mode="before") classmethods (opslib/params, opslib/catalog/platforms.py): the decorators require it
mtime_ns  # opslib/run/batch.py _declared_parameters: part of the lru_cache key, so a notebook edited since is parsed again

"""`python -m opslib.costgate PARAMS`: the pipeline's cost-check stage, as CI files generated
before `opslib cost-gate` existed call it. Same as `opslib cost-gate PARAMS`."""

from __future__ import annotations

import sys

from opslib.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main(["cost-gate", *sys.argv[1:]]))

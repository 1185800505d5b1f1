"""The exceptions opslib raises for problems a user can fix.

Every message is one sentence that names the file, field or command and says what to do.
The CLI prints them without a traceback and exits with code 2 (bad input) or 1 (a run
or a check failed).

    OpslibError
    ├── InputError            bad input: exit code 2
    │   ├── ParamsError       a parameters file has one or more mistakes (all of them listed)
    │   ├── CatalogError      a data catalog in opslib/data is malformed
    │   ├── StatusError       status.json is missing or malformed
    │   └── SecretInOutput    a file about to be written holds a secret value (nothing is written)
    ├── StatusGateError       status.json says blocked or on-hold (use --force to override)
    └── ChecksFailed          a generated document failed quality-bar checks

    Terminated (a KeyboardInterrupt)   SIGTERM, raised like Ctrl-C so that every clean-up runs;
                                       the CLI exits with 143
"""

from __future__ import annotations

__all__ = [
    "OpslibError",
    "InputError",
    "ParamsError",
    "CatalogError",
    "StatusError",
    "StatusGateError",
    "ChecksFailed",
    "SecretInOutput",
    "Terminated",
]


class OpslibError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""

    exit_code = 1


class InputError(OpslibError):
    exit_code = 2


class ParamsError(InputError):
    """One or more mistakes in a parameters file; `problems` holds one line per mistake."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        noun = "mistake" if len(problems) == 1 else "mistakes"
        lines = [f"{path}: {len(problems)} {noun}; fix each field below and run `opslib validate {path}` again."]
        lines += [f"  {p}" for p in problems]
        super().__init__("\n".join(lines))


class CatalogError(InputError):
    pass


class StatusError(InputError):
    pass


class SecretInOutput(InputError):
    """A document, notebook or review copy about to be written holds a secret value."""

    def __init__(self, path: str, kinds: list[str]):
        self.path = path
        self.kinds = kinds
        what = ", ".join(sorted(set(kinds)))
        super().__init__(f"{path}: not written, it would contain a secret value ({what}); remove the value where it came from "
                         "(the parameters, status.json, a catalog or record), rotate it, and reference the secret by name in secrets:.")


class Terminated(KeyboardInterrupt):
    """SIGTERM: raised in the main thread like Ctrl-C, so temporary folders, workers and kernels
    are cleaned up by the same code paths."""


class StatusGateError(OpslibError):
    exit_code = 2


class ChecksFailed(OpslibError):
    """A generated document failed one or more quality-bar checks."""

    def __init__(self, document: str, findings: list, draft: object = None):
        self.document = document
        self.findings = findings
        self.draft = draft  # the failing draft (documents.contract.Draft), for a copy the user can read
        failed = [f for f in findings if f.status == "fail" and f.severity == "error"] or [f for f in findings if f.status == "fail"]
        lines = [f"{document}: {len(failed)} quality-bar check(s) failed; fix the parameters or the catalog entries named below."]
        lines += [f"  [{f.item}] {f.message}" for f in failed]
        super().__init__("\n".join(lines))

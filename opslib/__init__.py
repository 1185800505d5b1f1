"""opslib: turn one YAML file per project into the documents a production service needs.

Public API:

    load_params(path)                 -> ProjectParams   (every mistake at once, as ParamsError)
    check_status(params, force=False) -> StatusCheck     (the status.json gate)
    runbook.build / render_runbook / preview / write
    check_runbook(text, *, path=None, environments=None, params=None, strict=False) -> list[Finding]
                                      (the quality bar's runbook checks; strict: our generated runbooks)
    batch.run_batch(...)              (papermill over every notebook for every project)
"""

from opslib.check.findings import Finding
from opslib.check.runbook import check_runbook
from opslib.errors import CatalogError, ChecksFailed, InputError, OpslibError, ParamsError, StatusError, StatusGateError
from opslib.params.models import ProjectParams, load_params, params_hash
from opslib.params.status import StatusCheck, check_status

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "load_params",
    "params_hash",
    "ProjectParams",
    "check_status",
    "StatusCheck",
    "check_runbook",
    "Finding",
    "OpslibError",
    "InputError",
    "ParamsError",
    "CatalogError",
    "StatusError",
    "StatusGateError",
    "ChecksFailed",
]

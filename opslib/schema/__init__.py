"""Sections of the parameters schema that belong to one document each.

`opslib.params.ProjectParams` composes them; each module here imports only pydantic (and
catalog loaders), never `opslib.params`, so loading parameters stays cheap and acyclic.
Each section module provides:

    <Name>Section                           the pydantic type of the section
    cross_problems(params) -> list[str]     checks against the rest of the parameters
                                            (one "field.path: message; what to do" line each)
"""

"""OpenAPI post-processing: the reference contract's names for path parameters.

Our URL keyword arguments are snake_case (``application_id``); the reference portal's document
names them ``applicationId`` and ``keyMappingId``, and clients generated from an OpenAPI document
take their parameter names from it. Only the document changes: the URLs are the same.
"""

from __future__ import annotations

import re

_SNAKE = re.compile(r"_([a-z])")


def _camel(name: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


def camel_case_path_parameters(result, generator, request, public):
    paths = {}
    for path, operations in result.get("paths", {}).items():
        renamed = re.sub(r"\{([a-z_]+)\}", lambda m: "{" + _camel(m.group(1)) + "}", path)
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path":
                    parameter["name"] = _camel(parameter["name"])
        paths[renamed] = operations
    result["paths"] = paths
    return result

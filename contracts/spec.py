"""Load the API description: `openapi.yaml` and the JSON Schemas in `schemas/`, with validators.

Every schema file has an `$id` under `SCHEMA_BASE_URI`; cross-file references such as
`"$ref": "draft.schema.json"` resolve through one `referencing.Registry` that holds all of them.
The OpenAPI document is self-contained (its components mirror the schema files), so tools that
load it alone, like schemathesis, need no file resolution.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from contracts import OPENAPI_PATH, SCHEMAS_DIR

SCHEMA_BASE_URI = "https://nemovideo-twin.local/schemas/"
#: Where the OpenAPI document sits in the registry, so `#/components/schemas/...` resolves.
OPENAPI_URI = "https://nemovideo-twin.local/openapi.yaml"
SCHEMA_SUFFIX = ".schema.json"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def schema_file_name(name: str) -> str:
    """`draft`, `draft.schema.json` -> `draft.schema.json`."""
    return name if name.endswith(SCHEMA_SUFFIX) else f"{name}{SCHEMA_SUFFIX}"


@cache
def _openapi() -> dict[str, Any]:
    with OPENAPI_PATH.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict):
        raise ValueError(f"{OPENAPI_PATH.name} is not a mapping")
    return document


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for path in sorted(SCHEMAS_DIR.glob(f"*{SCHEMA_SUFFIX}")):
        schemas[path.name] = json.loads(path.read_text(encoding="utf-8"))
    return schemas


def schema_names() -> list[str]:
    """File names of all JSON Schemas in `contracts/schemas/`, sorted."""
    return list(_schemas())


def load_openapi() -> dict[str, Any]:
    """The OpenAPI document as a dict (a fresh copy; the parsed file is cached)."""
    return copy.deepcopy(_openapi())


def load_schema(name: str) -> dict[str, Any]:
    """One JSON Schema by file name, with or without the `.schema.json` suffix (a fresh copy)."""
    file_name = schema_file_name(name)
    try:
        return copy.deepcopy(_schemas()[file_name])
    except KeyError:
        raise KeyError(f"no schema {file_name!r} in {SCHEMAS_DIR.name}/; have {schema_names()}") from None


@cache
def registry() -> Registry[Any]:
    """All schema files under their `$id`s, plus the OpenAPI document under `OPENAPI_URI`."""
    resources = [
        (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema in _schemas().values()
    ]
    # The OpenAPI document is no schema, but pointers into its components are (OpenAPI 3.1).
    resources.append((OPENAPI_URI, DRAFT202012.create_resource(_openapi())))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Validator:
    """A Draft 2020-12 validator for a schema file, e.g. `draft` or `draft.schema.json#/$defs/segment`.

    A fragment selects a subschema; format assertions (uri, date-time) are checked.
    """
    file_name, _, fragment = name.partition("#")
    schema = load_schema(file_name)
    if fragment:
        schema = {"$ref": f"{schema['$id']}#{fragment}"}
    return Draft202012Validator(
        schema, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@cache
def component_validator(name: str) -> Validator:
    """A validator for `#/components/schemas/<name>` of the OpenAPI document."""
    if name not in _openapi().get("components", {}).get("schemas", {}):
        raise KeyError(f"no component schema {name!r} in {OPENAPI_PATH.name}")
    schema = {"$ref": f"{OPENAPI_URI}#/components/schemas/{name}"}
    return Draft202012Validator(
        schema, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@cache
def _operations() -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for path, item in _openapi().get("paths", {}).items():
        pairs.extend((method.upper(), path) for method in item if method in HTTP_METHODS)
    return tuple(pairs)


def documented_operations() -> list[tuple[str, str]]:
    """(METHOD, path template) of every operation in `openapi.yaml`, in document order."""
    return list(_operations())


def operation(operation_id: str) -> tuple[str, str, dict[str, Any]]:
    """(METHOD, path template, operation object) for an operationId (the object is a fresh copy)."""
    for path, item in _openapi().get("paths", {}).items():
        for method, op in item.items():
            if method in HTTP_METHODS and op.get("operationId") == operation_id:
                return method.upper(), path, copy.deepcopy(op)
    raise KeyError(f"no operation {operation_id!r} in {OPENAPI_PATH.name}")

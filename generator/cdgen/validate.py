"""Validation of a parsed descriptor: every violation at once, with positions."""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from cdgen.canary_rules import find_canary_violations
from cdgen.cloud import ecr_region
from cdgen.descriptor import Document, PathItem, dotted
from cdgen.errors import DescriptorError, Violation
from cdgen.resources import load_schema
from cdgen.rules import matches
from cdgen.services_rules import find_service_violations
from cdgen.site_rules import find_site_violations

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "boolean": "true or false",
    "number": "a number",
}


_MESSAGES = {
    "minItems": "must have at least {} item(s)",
    "maxItems": "must have at most {} items",
    "minLength": "must not be empty",
    "maxLength": "must be at most {} characters",
    "minimum": "must be at least {}",
    "maximum": "must be at most {}",
    "uniqueItems": "must not repeat an item",
    "const": "must be {!r}",
}


def validate_document(doc: Document) -> None:
    """Raise DescriptorError listing every violation; return when the descriptor is valid."""
    violations = sorted(set(find_violations(doc)))
    if violations:
        raise DescriptorError(violations)


def find_violations(doc: Document) -> Iterator[Violation]:
    validator = _validator_class()(load_schema())
    for error in validator.iter_errors(doc.data):
        yield from _explain(doc, error)
    yield from _check_environments(doc)
    yield from find_site_violations(doc)
    yield from _check_registry_region(doc)
    yield from find_canary_violations(doc, doc.violation)
    yield from find_service_violations(doc, doc.violation)
    yield from _check_service_repositories(doc, validator)


def _validator_class() -> Any:
    """Draft 2020-12 whose `pattern` anchors `$` at the very end, as ECMA-262 (and so editors
    and other validators of the schema) do: Python's `$` also matches before a final newline,
    which would let "staging\\n" through."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    def pattern(validator: Any, expected: str, instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "string") and not matches(expected, instance):
            yield ValidationError(f"{instance!r} does not match {expected!r}")

    extend: Any = validators.extend  # untyped in the stubs
    return extend(Draft202012Validator, {"pattern": pattern})


def _explain(doc: Document, error: ValidationError) -> Iterator[Violation]:
    where = list(error.absolute_path)
    kind = error.validator
    if kind == "additionalProperties":
        yield from _unknown_keys(doc, where, error)
        return
    if kind == "required":
        required: Any = error.validator_value
        instance: Any = error.instance
        schema: Any = error.schema
        # A rule that requires a key in some combinations says why (x-error).
        why = f": {schema['x-error']}" if isinstance(schema, dict) and "x-error" in schema else ""
        for name in required:
            if name not in instance:
                yield doc.violation(where, f"missing required key '{name}'{why}", key=bool(where))
        return
    yield doc.violation(where, f"{_describe(error)}{_got(error.instance)}")


def _describe(error: ValidationError) -> str:
    schema: Any = error.schema
    custom = schema.get("x-error") if isinstance(schema, dict) else None
    kind, expected = error.validator, error.validator_value
    if kind == "type":
        return f"must be {_TYPE_NAMES.get(str(expected), str(expected))}"
    if custom and kind in {"pattern", "const", "enum", "minLength"}:
        return str(custom)
    if kind == "enum":
        options: Any = expected
        return "must be one of: " + ", ".join(str(v) for v in options)
    template = _MESSAGES.get(str(kind))
    if template:
        return template.format(expected)
    return str(custom or error.message)


def _got(value: Any) -> str:
    if isinstance(value, dict | list):
        return ""
    return f" (got {_as_yaml(value)})"


def _as_yaml(value: Any, limit: int = 60) -> str:
    """A value as it reads in YAML (`null`, `true`, `.inf`, `[1, 'a']`), text quoted, cut at
    `limit` characters: never a Python repr such as None or ordereddict(...)."""
    shown = _yaml_text(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _yaml_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_yaml_text(k)}: {_yaml_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | set):
        return "[" + ", ".join(_yaml_text(item) for item in value) + "]"
    return _yaml_scalar(value)


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, str):
        return repr(str(value))
    if value is None or isinstance(value, bool):
        return json.dumps(value)  # null, true, false
    if isinstance(value, float):
        number = float(value)
        if math.isinf(number) or math.isnan(number):
            return {"inf": ".inf", "-inf": "-.inf"}.get(str(number), ".nan")
        return repr(number)
    return value.isoformat() if isinstance(value, date) else str(value)


def _unknown_keys(
    doc: Document, where: list[PathItem], error: ValidationError
) -> Iterator[Violation]:
    schema: Any = error.schema
    instance: Any = error.instance
    allowed = sorted(schema.get("properties", {}))
    for name in instance:
        if not (isinstance(name, str) and name in allowed):
            yield _unknown_key(doc, where, name, allowed)


def _unknown_key(doc: Document, where: list[PathItem], name: Any, allowed: list[str]) -> Violation:
    """`image.tset: unknown key 'tset' (did you mean 'test'?)`; a key that is not text (`1:`,
    `null:`) is shown as YAML writes it, in the label too."""
    text = isinstance(name, str)
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6) if text else []
    hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed)
    shown = _as_yaml(name)
    step = name if text and name.isprintable() and len(name) <= 60 else shown
    label = f"{dotted(where)}.{step}" if where else step
    message = f"{label}: unknown key {shown} ({hint})"
    return doc.violation([*where, name], message, key=True, label=False)


def _check_environments(doc: Document) -> Iterator[Violation]:
    environments = doc.data.get("environments") if isinstance(doc.data, dict) else None
    if not isinstance(environments, list):
        return
    seen: dict[str, int] = {}
    manual_at: str | None = None
    for index, env in enumerate(environments):
        if not isinstance(env, dict) or not isinstance(env.get("name"), str):
            continue
        name = env["name"]
        if name in seen:
            first = doc.position(["environments", seen[name], "name"])[0]
            yield doc.violation(
                ["environments", index, "name"],
                f"duplicate environment '{name}' (first defined on line {first})",
            )
        else:
            seen[name] = index
        approval = env.get("approval", "none")
        if approval == "manual" and name == "pipeline":
            yield doc.violation(
                ["environments", index, "name"],
                "'pipeline' cannot name a manual environment: cd.yml's promote-to input uses it "
                "for a run of the whole pipeline",
            )
        if approval == "manual":
            manual_at = manual_at or name
        elif manual_at is not None:
            yield doc.violation(
                ["environments", index, "name"],
                f"environment '{name}' follows manual environment '{manual_at}', so it must "
                "be 'approval: manual' too (manual environments are promoted by hand, in order)",
            )


def _check_registry_region(doc: Document) -> Iterator[Violation]:
    """An ECR registry's host names its region; the login must assume the role there, since
    amazon-ecr-login asks that region's ECR for the password (the schema cannot compare two
    values)."""
    image = doc.data.get("image") if isinstance(doc.data, dict) else None
    login = image.get("login") if isinstance(image, dict) else None
    aws = login.get("aws") if isinstance(login, dict) else None
    registry = image.get("registry") if isinstance(image, dict) else None
    if not isinstance(aws, dict) or not isinstance(registry, str):
        return
    host_region = ecr_region(registry)
    region = aws.get("region")
    if host_region and isinstance(region, str) and region != host_region:
        yield doc.violation(
            ["image", "login", "aws", "region"],
            f"must be {host_region}, the region in the registry's host {registry} (got {region!r})",
        )


def _check_service_repositories(doc: Document, validator: Any) -> Iterator[Violation]:
    """A service's own image path follows the shared registry's rules (Artifact Registry's
    PROJECT/REPOSITORY/IMAGE, Docker Hub's NAMESPACE/NAME), as the top-level one does."""
    data: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}
    image: dict[str, Any] = data["image"] if isinstance(data.get("image"), dict) else {}
    services = data.get("services")
    for index, service in enumerate(services if isinstance(services, list) else []):
        own = service.get("image") if isinstance(service, dict) else None
        repository = own.get("repository") if isinstance(own, dict) else None
        if not isinstance(repository, str):
            continue
        probe: dict[str, Any] = {k: image[k] for k in ("registry", "login") if k in image}
        probe["repository"] = repository
        for error in validator.descend(probe, load_schema()["properties"]["image"]):
            if list(error.absolute_path) == ["repository"] and error.validator == "pattern":
                where: list[PathItem] = ["services", index, "image", "repository"]
                yield doc.violation(where, f"{_describe(error)}{_got(repository)}")

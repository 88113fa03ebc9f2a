"""The kubectl simulator's objects beyond the stable Deployment, for canary releases:
Deployments applied from a manifest, Services, Gateway API HTTPRoutes, and the commands
that change them (``apply``, ``scale``, ``delete``, ``patch --type=json``).

State (in the simulator's file, beside ``deployments``):

    services     {"NS/NAME": Service as `kubectl get -o json` shows it}
    httproutes   {"NS/NAME": HTTPRoute as `kubectl get -o json` shows it}
    fail_apply, fail_scale, fail_delete, fail_patch
                 that command fails (true, or a list of namespaces or object names)

The API server's checks that the engine's manifests must pass are made here too: a
Deployment's selector must match its template's labels and cannot change, label values are
at most 63 characters, the manifest's namespace is the command's, a JSON patch's ``test``
must hold for any of it to apply, and an HTTPRoute's backendRefs get the CRD's defaults.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

State = dict[str, Any]
ROUTES = "httproutes.gateway.networking.k8s.io"
RESOURCES = {"deployment": "deployments.apps", "service": "services", ROUTES: ROUTES}
SHOWN = {
    "deployment": "deployment.apps",
    "service": "service",
    ROUTES: ROUTES.replace("s.", ".", 1),
}
TABLES = {"deployment": "deployments", "service": "services", ROUTES: "httproutes"}
_LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
_NAME = re.compile(r"[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?")


class UsageError(Exception):
    pass


class CommandError(Exception):
    pass


def check_rbac(state: State, needs: list[tuple[str, str]], namespace: str, name: str) -> None:
    """Forbidden, worded as the API server words it, when ``rbac`` lacks a permission."""
    allowed = state.get("rbac")
    if allowed is None:
        return
    for verb, resource in needs:
        if verb not in allowed.get(resource, []):
            kinds, _, group = resource.partition(".")
            plural, _, sub = kinds.partition("/")
            subject = f'{resource} "{name}"' if verb in ("get", "patch", "delete") else resource
            what = f'resource "{plural}"' + (f' subresource "{sub}"' if sub else "")
            raise CommandError(
                f'Error from server (Forbidden): {subject} is forbidden: User "deployer" '
                f'cannot {verb} {what} in API group "{group}" in the namespace "{namespace}"'
            )


def touch(dep: dict[str, Any]) -> None:
    """Every write gives the object a new resourceVersion, as the API server does."""
    dep["resourceVersion"] = int(dep.get("resourceVersion", 1)) + 1


def apply_template(state: State, dep: dict[str, Any], containers: dict[str, str]) -> None:
    """A new template gets the next revision; an old template comes back with a new number.
    Revisions beyond revisionHistoryLimit are cleaned up, as the Deployment controller does."""
    history = [h for h in dep["history"] if h["containers"] != containers]
    revision = max([h["revision"] for h in dep["history"]] + [0]) + 1
    history.append({"revision": revision, "containers": dict(containers)})
    dep["history"] = history[-(int(dep.get("revisionHistoryLimit", 10)) + 1) :]
    dep["containers"] = dict(containers)
    dep["revision"] = revision
    touch(dep)
    stuck = set(containers.values()) & set(state.get("never_ready", []))
    if not stuck and not dep.get("paused"):
        dep["serving"] = dict(containers)


def fails(state: State, switch: str, namespace: str, name: str = "") -> bool:
    value = state.get(switch)
    if isinstance(value, list):
        return namespace in value or name in value
    return value not in (None, False, 0)


def parse_object(word: str, kinds: tuple[str, ...]) -> tuple[str, str]:
    kind, _, name = word.partition("/")
    if kind not in kinds or not _NAME.fullmatch(name):
        raise UsageError(f"expected {' or '.join(k + '/NAME' for k in kinds)}, got {word!r}")
    return kind, name


def table(state: State, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = state.setdefault(TABLES[kind], {})
    return found


def not_found(kind: str, name: str) -> CommandError:
    return CommandError(f'Error from server (NotFound): {RESOURCES[kind]} "{name}" not found')


def get_object(state: State, kind: str, namespace: str, name: str) -> str:
    """``get service/NAME`` or ``get httproutes…/NAME`` (Deployments: see kubectl_sim)."""
    check_rbac(state, [("get", RESOURCES[kind])], namespace, name)
    found = table(state, kind).get(f"{namespace}/{name}")
    if found is None:
        raise not_found(kind, name)
    return json.dumps(found, indent=4)


def _invalid(kind: str, name: str, detail: str) -> CommandError:
    what = {"deployment": "Deployment", "service": "Service"}[kind]
    return CommandError(f'The {what} "{name}" is invalid: {detail}')


def _labels(kind: str, name: str, where: str, labels: Any) -> dict[str, str]:
    if not isinstance(labels, dict):
        raise _invalid(kind, name, f"{where}: Invalid value: not a map of labels")
    for value in labels.values():
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
            raise _invalid(kind, name, f"{where}: Invalid value: {value!r}: not a label value")
    return labels


def _deployment(state: State, manifest: dict[str, Any], name: str) -> dict[str, Any]:
    """The simulator's record of an applied Deployment, checked as the API server would."""
    spec = manifest.get("spec") or {}
    template = spec.get("template") or {}
    where = "spec.template.metadata.labels"
    labels = _labels("deployment", name, where, (template.get("metadata") or {}).get("labels"))
    selector = _labels("deployment", name, "spec.selector", spec["selector"]["matchLabels"])
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        detail = f"{where}: Invalid value: `selector` does not match template `labels`"
        raise _invalid("deployment", name, detail)
    containers = {c["name"]: c["image"] for c in template["spec"]["containers"]}
    never_ready = set(containers.values()) & set(state.get("never_ready", []))
    return {
        "containers": containers,
        "serving": {} if never_ready else dict(containers),
        "revision": 1,
        "history": [{"revision": 1, "containers": dict(containers)}],
        "replicas": int(spec["replicas"]),
        "labels": labels,
        "selector": {"matchLabels": selector},
        "annotations": dict(manifest["metadata"].get("annotations") or {}),
        "manifest": manifest,
    }


def _apply_deployment(state: State, namespace: str, manifest: dict[str, Any]) -> str:
    name = manifest["metadata"]["name"]
    current = table(state, "deployment").get(f"{namespace}/{name}")
    verb = "patch" if current else "create"
    check_rbac(
        state, [("get", RESOURCES["deployment"]), (verb, RESOURCES["deployment"])], namespace, name
    )
    record = _deployment(state, manifest, name)
    if current is None:
        table(state, "deployment")[f"{namespace}/{name}"] = record
        return f"deployment.apps/{name} created"
    if current.get("selector", record["selector"]) != record["selector"]:
        raise _invalid("deployment", name, "spec.selector: Invalid value: field is immutable")
    unchanged = (
        current["containers"] == record["containers"] and current["replicas"] == record["replicas"]
    )
    if current["containers"] != record["containers"]:
        apply_template(state, current, record["containers"])
    current.update(manifest=manifest, labels=record["labels"], replicas=record["replicas"])
    current.setdefault("annotations", {}).update(record["annotations"])
    touch(current)
    return f"deployment.apps/{name} {'unchanged' if unchanged else 'configured'}"


def _apply_service(state: State, namespace: str, manifest: dict[str, Any]) -> str:
    name = manifest["metadata"]["name"]
    current = table(state, "service").get(f"{namespace}/{name}")
    verb = "patch" if current else "create"
    check_rbac(state, [("get", "services"), (verb, "services")], namespace, name)
    if len(name) > 63 or "." in name:
        raise _invalid("service", name, "metadata.name: Invalid value: must be a DNS-1035 label")
    spec = manifest.get("spec") or {}
    _labels("service", name, "spec.selector", spec.get("selector"))
    if not spec.get("ports"):
        raise _invalid("service", name, "spec.ports: Required value")
    table(state, "service")[f"{namespace}/{name}"] = manifest
    return f"service/{name} {'configured' if current else 'created'}"


def apply(state: State, namespace: str, path: str) -> str:
    """``apply --filename=PATH`` of one Deployment or Service, as JSON."""
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError) as error:
        raise CommandError(f"error: the path {path!r} cannot be read as JSON: {error}") from None
    kind = {"Deployment": "deployment", "Service": "service"}.get(manifest.get("kind"))
    if kind is None:
        raise UsageError(
            f"the simulator applies a Deployment or a Service, not {manifest.get('kind')!r}"
        )
    given = manifest["metadata"].get("namespace") or namespace
    if given != namespace:
        raise CommandError(
            f'error: the namespace from the provided object "{given}" does not match the '
            f"namespace \"{namespace}\". You must pass '--namespace={given}' to perform this operation."
        )
    if fails(state, "fail_apply", namespace, manifest["metadata"]["name"]):
        raise CommandError(
            "Error from server (InternalError): an error on the server has prevented the request from succeeding"
        )
    if kind == "service":
        return _apply_service(state, namespace, manifest)
    return _apply_deployment(state, namespace, manifest)


def scale(state: State, namespace: str, word: str, replicas: str) -> str:
    """``scale deployment/NAME --replicas=N``: get, then patch the scale subresource."""
    _, name = parse_object(word, ("deployment",))
    if not re.fullmatch(r"[0-9]{1,5}", replicas):
        raise UsageError(f"--replicas must be a whole number, got {replicas!r}")
    check_rbac(
        state, [("get", "deployments.apps"), ("patch", "deployments/scale.apps")], namespace, name
    )
    dep = table(state, "deployment").get(f"{namespace}/{name}")
    if dep is None:
        raise not_found("deployment", name)
    if fails(state, "fail_scale", namespace, name):
        raise CommandError(
            "Error from server (InternalError): an error on the server has prevented the request from succeeding"
        )
    dep["replicas"] = int(replicas)
    touch(dep)
    return f"deployment.apps/{name} scaled"


def delete(state: State, namespace: str, words: list[str], ignore_missing: bool) -> str:
    """``delete deployment/NAME [service/NAME] --ignore-not-found --wait=false``."""
    said = []
    for word in words:
        kind, name = parse_object(word, ("deployment", "service"))
        check_rbac(state, [("delete", RESOURCES[kind])], namespace, name)
        if fails(state, "fail_delete", namespace, name):
            raise CommandError(f'Error from server (InternalError): deleting "{name}" failed')
        if table(state, kind).pop(f"{namespace}/{name}", None) is not None:
            said.append(f'{SHOWN[kind]} "{name}" deleted')
        elif not ignore_missing:
            raise not_found(kind, name)
    return "\n".join(said)


def _pointer(document: Any, path: str) -> tuple[Any, str | int]:
    """The parent and the last key of a JSON pointer (RFC 6901), which must exist."""
    steps = [step.replace("~1", "/").replace("~0", "~") for step in path.split("/")[1:]]
    if not path.startswith("/") or not steps:
        raise CommandError(f"error: invalid JSON pointer {path!r}")
    node = document
    for step in steps[:-1]:
        node = node[int(step)] if isinstance(node, list) else node[step]
    last: str | int = int(steps[-1]) if isinstance(node, list) else steps[-1]
    if (isinstance(node, list) and not 0 <= int(last) < len(node)) or (
        isinstance(node, dict) and last not in node
    ):
        raise KeyError(path)
    return node, last


def patch_route(state: State, namespace: str, word: str, patch: str) -> str:
    """``patch httproutes.gateway.networking.k8s.io/NAME --type=json --patch=[ops]``: ops
    ``test`` and ``replace`` only; a failed test applies nothing."""
    _, name = parse_object(word, (ROUTES,))
    check_rbac(state, [("get", ROUTES), ("patch", ROUTES)], namespace, name)
    route = table(state, ROUTES).get(f"{namespace}/{name}")
    if route is None:
        raise not_found(ROUTES, name)
    ops = json.loads(patch)
    if fails(state, "fail_patch", namespace, name):
        raise CommandError(
            "Error from server (InternalError): an error on the server has prevented the request from succeeding"
        )
    changed = copy.deepcopy(route)
    for op in ops:
        if set(op) != {"op", "path", "value"} or op["op"] not in ("test", "replace"):
            raise UsageError(f"the simulator takes test and replace operations only: {op}")
        try:
            parent, key = _pointer(changed, op["path"])
        except (KeyError, IndexError, ValueError, TypeError):
            raise CommandError(
                f"Error from server: replace operation does not apply: doc is missing path: {op['path']}"
            ) from None
        if op["op"] == "test" and parent[key] != op["value"]:
            raise CommandError(
                f"Error from server (UnprocessableEntity): the server rejected our request due to an error in our request: testing value {op['path']} failed: test failed"
            )
        parent[key] = op["value"]
    _default_backends(changed)
    changed["metadata"]["generation"] = int(changed["metadata"].get("generation", 1)) + 1
    table(state, ROUTES)[f"{namespace}/{name}"] = changed
    return f"{SHOWN[ROUTES]}/{name} patched"


def _default_backends(route: dict[str, Any]) -> None:
    """The Gateway API CRD's defaults, which the API server fills in on every write."""
    for rule in route["spec"].get("rules") or []:
        for ref in rule.get("backendRefs") or []:
            for key, value in (("group", ""), ("kind", "Service"), ("weight", 1)):
                ref.setdefault(key, value)

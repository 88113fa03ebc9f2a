#!/usr/bin/env python3
"""A kubectl simulator: Deployments and their revision history in a JSON file.

It accepts exactly the commands the deploy engine and ``cdgen doctor`` run (see
cdgen.deploy.kubectl) and rejects anything else with exit 2, as kubectl does for bad usage.
The state file, named by ``KUBECTL_SIM_STATE``, holds:

    deployments   {"NS/NAME": {"containers": {C: IMAGE}, "serving": {C: IMAGE},
                               "revision": N, "history": [{"revision": N, "containers": {}}],
                               optional: "replicas", "strategy", "revisionHistoryLimit",
                               "paused", "probes": {C: readinessProbe},
                               "annotations": {K: V}, "resourceVersion": N}}
    never_ready   images whose rollout never completes (``rollout status`` times out)
    stuck         Deployments ("NS/NAME") whose rollout never completes, whatever they run
    fail_undo     ``rollout undo`` fails (true, or a list of namespaces)
    delays        {"get"|"set"|"undo"|"config"|"auth": seconds} a command takes to answer
    set_image_fails      ``set image`` fails and changes nothing
    set_image_times_out  ``set image`` changes the image, then reports the server's timeout
    conflict_annotate    ``annotate`` answers the next N calls with a Conflict, as if another
                         writer had just changed the Deployment (a number)
    rbac          {"deployments.apps": [verbs], …}: only these are allowed (absent: all are)
    leak_kubeconfig  every answer quotes the kubeconfig file, for redaction to hide
                     (true, or a list of namespaces)
    http          behaviour of the smoke server per image (see smoke_server.py)
    calls         every invocation, appended: argv, and the kubeconfig file's mode; without
                  --kubeconfig, the ambient $KUBECONFIG and how its current user
                  authenticates (``ambient``), as written by the cloud logins
    services, httproutes, fail_apply, …   a canary's objects (see kubectl_sim_objects)

A Deployment applied from a manifest (a canary) also keeps "labels" (its pod template's),
"selector" and the "manifest" as applied.

Answer shapes follow kubectl 1.32 (``kubectl get deployment -o json``, ``kubectl config view
--raw -o json``, ``kubectl auth can-i``); the permissions each command needs are the ones
kubectl's source uses (see cdgen.deploy.rbac, which is checked against this simulator).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

if not __package__:  # run as a program (the kubectl shim): make its package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from support import kubectl_sim_objects as objects
from support.kubectl_sim_objects import (
    ROUTES,
    CommandError,
    UsageError,
    apply_template,
    check_rbac,
    touch,
)

State = dict[str, Any]
SERVER_TIMEOUT = (
    "Error from server (Timeout): the server was unable to return a response in the time "
    "allotted, but may still be processing the request (patch deployments.apps {name})"
)
UNAVAILABLE = (
    "Error from server (ServiceUnavailable): the server is currently unable to handle the "
    "request (patch deployments.apps {name})"
)
BOOLEAN_FLAGS = {"raw", "overwrite", "ignore-not-found"}
CONFLICT = (
    'Error from server (Conflict): Operation cannot be fulfilled on deployments.apps "{name}": '
    "the object has been modified; please apply your changes to the latest version and try again"
)
# What each command asks the API server for, read in kubectl's source.
DEPLOYMENTS, REPLICASETS = "deployments.apps", "replicasets.apps"
NEEDS: dict[str, list[tuple[str, str]]] = {
    "get": [("get", DEPLOYMENTS)],
    "set": [("get", DEPLOYMENTS), ("patch", DEPLOYMENTS)],
    "status": [("get", DEPLOYMENTS), ("list", DEPLOYMENTS), ("watch", DEPLOYMENTS)],
    "undo": [("get", DEPLOYMENTS), ("list", REPLICASETS), ("patch", DEPLOYMENTS)],
    "annotate": [("get", DEPLOYMENTS), ("patch", DEPLOYMENTS)],
}


@contextmanager
def locked_state(path: str) -> Iterator[State]:
    """Read-modify-write the state under an exclusive lock (the act tests run jobs at once)."""
    with open(path, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        state: State = json.load(handle)
        try:
            yield state
        finally:  # a command may change the state and then fail (set_image_times_out)
            handle.seek(0)
            handle.truncate()
            json.dump(state, handle, indent=1, sort_keys=True)


def parse_flags(
    args: list[str], allowed: set[str], required: set[str]
) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    flags: dict[str, str] = {}
    for arg in args:
        if not arg.startswith("-"):
            positional.append(arg)
            continue
        match = re.fullmatch(r"--([a-z-]+)(?:=(.+))?", arg)
        name = match.group(1) if match else ""
        boolean = name in BOOLEAN_FLAGS
        if match is None or name not in allowed or name in flags:
            raise UsageError(f"unknown or malformed flag: {arg}")
        if (match.group(2) is None) != boolean:
            raise UsageError(f"malformed flag: {arg}")
        flags[name] = match.group(2) or "true"
    missing = required - flags.keys()
    if missing:
        raise UsageError(f"missing flags: {sorted(missing)}")
    return positional, flags


def resource_name(word: str) -> str:
    match = re.fullmatch(r"deployment/([a-z0-9.-]+)", word)
    if match is None:
        raise UsageError(f"expected deployment/NAME, got {word!r}")
    return match.group(1)


def deployment(state: State, namespace: str, name: str) -> dict[str, Any]:
    found = state["deployments"].get(f"{namespace}/{name}")
    if found is None:
        raise CommandError(f'Error from server (NotFound): deployments.apps "{name}" not found')
    return found  # type: ignore[no-any-return]


def authorize(state: State, command: str, namespace: str, name: str) -> None:
    """Forbidden, worded as the API server words it, when ``rbac`` lacks a permission."""
    check_rbac(state, NEEDS[command], namespace, name)


def document(name: str, namespace: str, dep: dict[str, Any]) -> dict[str, Any]:
    """The Deployment as ``kubectl get -o json`` shows it, defaults filled in by the server."""
    probes = dep.get("probes", {})
    containers = [
        {"image": i, "name": c, **({"readinessProbe": probes[c]} if c in probes else {})}
        for c, i in sorted(dep["containers"].items())
    ]
    rolling = {"maxSurge": "25%", "maxUnavailable": "25%"}
    spec: dict[str, Any] = {
        "progressDeadlineSeconds": 600,
        "replicas": dep.get("replicas", 1),
        "revisionHistoryLimit": dep.get("revisionHistoryLimit", 10),
        "selector": dep.get("selector", {"matchLabels": {"app": name}}),
        "strategy": dep.get("strategy", {"rollingUpdate": rolling, "type": "RollingUpdate"}),
        "template": {
            "metadata": {"labels": dep.get("labels", {"app": name})},
            "spec": {"containers": containers},
        },
    }
    if dep.get("paused"):
        spec["paused"] = True
    annotations = {
        **dep.get("annotations", {}),
        "deployment.kubernetes.io/revision": str(dep["revision"]),
    }
    metadata = {
        "annotations": annotations,
        "name": name,
        "namespace": namespace,
        "resourceVersion": str(dep.get("resourceVersion", 1)),
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}


def cmd_get(state: State, args: list[str], flags: dict[str, str]) -> str:
    if len(args) != 1 or flags.get("output") != "json":
        raise UsageError("usage: get deployment/NAME --output=json")
    if not args[0].startswith("deployment/"):
        kind, other = objects.parse_object(args[0], ("service", ROUTES))
        return objects.get_object(state, kind, flags["namespace"], other)
    name = resource_name(args[0])
    authorize(state, "get", flags["namespace"], name)
    dep = deployment(state, flags["namespace"], name)
    return json.dumps(document(name, flags["namespace"], dep), indent=4)


def cmd_set_image(state: State, args: list[str], flags: dict[str, str]) -> str:
    if len(args) != 3 or args[0] != "image" or args[2].count("=") != 1:
        raise UsageError("usage: set image deployment/NAME CONTAINER=IMAGE")
    name = resource_name(args[1])
    authorize(state, "set", flags["namespace"], name)
    dep = deployment(state, flags["namespace"], name)
    container, image = args[2].split("=")
    if container not in dep["containers"]:
        raise CommandError(f'error: unable to find container named "{container}"')
    if applies(state, "set_image_fails", flags["namespace"]):
        raise CommandError(UNAVAILABLE.format(name=name))
    changed = dep["containers"][container] != image
    if changed:
        apply_template(state, dep, {**dep["containers"], container: image})
    if applies(state, "set_image_times_out", flags["namespace"]):
        raise CommandError(SERVER_TIMEOUT.format(name=name))
    return f"deployment.apps/{name} image updated" if changed else ""


def cmd_annotate(state: State, args: list[str], flags: dict[str, str]) -> str:
    """``annotate deployment/NAME KEY=VALUE|KEY- [--overwrite] [--resource-version=N]``:
    kubectl refuses to change a key without --overwrite, and the server refuses a write
    based on an older resourceVersion with a Conflict."""
    if len(args) != 2 or not re.fullmatch(r"[a-z0-9./-]+(=.*|-)", args[1], re.DOTALL):
        raise UsageError("usage: annotate deployment/NAME KEY=VALUE|KEY-")
    name = resource_name(args[0])
    authorize(state, "annotate", flags["namespace"], name)
    dep = deployment(state, flags["namespace"], name)
    if state.get("conflict_annotate", 0) > 0:
        state["conflict_annotate"] -= 1
        raise CommandError(CONFLICT.format(name=name))
    wanted = flags.get("resource-version")
    if wanted is not None and wanted != str(dep.get("resourceVersion", 1)):
        raise CommandError(CONFLICT.format(name=name))
    annotations = dep.setdefault("annotations", {})
    if args[1].endswith("-") and "=" not in args[1]:
        annotations.pop(args[1][:-1], None)
    else:
        key, _, value = args[1].partition("=")
        if key in annotations and annotations[key] != value and "overwrite" not in flags:
            raise CommandError(
                f"error: --overwrite is false but found the following declared annotation(s): "
                f"'{key}' already has a value ({annotations[key]})"
            )
        annotations[key] = value
    touch(dep)
    return f"deployment.apps/{name} annotated"


def cmd_undo(state: State, args: list[str], flags: dict[str, str]) -> str:
    name = resource_name(args[0])
    authorize(state, "undo", flags["namespace"], name)
    dep = deployment(state, flags["namespace"], name)
    if applies(state, "fail_undo", flags["namespace"]):
        raise CommandError(
            f'error: failed to roll back deployment "{name}": the server is unavailable'
        )
    revisions = {h["revision"]: h["containers"] for h in dep["history"]}
    wanted = int(flags["to-revision"]) if "to-revision" in flags else sorted(revisions)[-2:][0]
    if wanted not in revisions:
        raise CommandError(f"error: unable to find specified revision {wanted} in history")
    if dep.get("paused"):
        raise CommandError(
            "error: you cannot rollback a paused deployment; resume it first with "
            f"'kubectl rollout resume deployment/{name}' and try again"
        )
    if revisions[wanted] == dep["containers"]:
        already = f"current template already matches revision {wanted}"
        return f"deployment.apps/{name} skipped rollback ({already})"
    apply_template(state, dep, revisions[wanted])
    return f"deployment.apps/{name} rolled back"


def cmd_status(path: str, args: list[str], flags: dict[str, str]) -> str:
    name = resource_name(args[0])
    timeout = re.fullmatch(r"([0-9]+)s", flags["timeout"])
    if timeout is None:
        raise UsageError("--timeout must be whole seconds, as the engine writes it")
    with locked_state(path) as state:
        authorize(state, "status", flags["namespace"], name)
        dep = deployment(state, flags["namespace"], name)
        never_ready = set(dep["containers"].values()) & set(state.get("never_ready", []))
        stuck = bool(never_ready) or dep["serving"] != dep["containers"]
        stuck = stuck or f"{flags['namespace']}/{name}" in state.get("stuck", [])
    if stuck:
        print(f'Waiting for deployment "{name}" rollout to finish: 0 out of 1 new replicas')
        sys.stdout.flush()
        time.sleep(int(timeout.group(1)))
        raise CommandError("error: timed out waiting for the condition")
    return f'deployment "{name}" successfully rolled out'


def cmd_config_view(flags: dict[str, str]) -> str:
    """Parse the kubeconfig (YAML block, flow or JSON) as kubectl does and print it."""
    from ruamel.yaml import YAML  # only the tests' own Python runs this command
    from ruamel.yaml.error import YAMLError

    path = flags.get("kubeconfig", os.path.expanduser("~/.kube/config"))
    try:
        with open(path, "rb") as handle:
            config = YAML(typ="safe").load(handle.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as error:
        problem = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CommandError(f'error: error loading config file "{path}": yaml: {problem}') from None
    config = config if isinstance(config, dict) else {}
    view = {
        "kind": "Config",
        "apiVersion": "v1",
        "preferences": {},
        "clusters": config.get("clusters"),
        "users": sorted(config.get("users") or [], key=lambda user: str(user.get("name"))) or None,
        "contexts": config.get("contexts"),
        "current-context": config.get("current-context", ""),
    }
    return json.dumps(view, indent=4)


def cmd_can_i(state: State, args: list[str], flags: dict[str, str]) -> str:
    if len(args) != 2 or not re.fullmatch(r"[a-z]+", args[0]) or "/" in args[1]:
        raise UsageError("usage: auth can-i VERB RESOURCE [--subresource=NAME]")
    verb, resource = args
    if "subresource" in flags:  # kept as the API server's RBAC names it: deployments/scale
        plural, _, group = resource.partition(".")
        resource = f"{plural}/{flags['subresource']}.{group}"
    allowed = state.get("rbac")
    if allowed is None or verb in allowed.get(resource, []):
        return "yes"
    print("no")
    raise CommandError("")


def cmd_object(state: State, verb: str, args: list[str], flags: dict[str, str]) -> str:
    """The canary's commands (see kubectl_sim_objects)."""
    namespace = flags["namespace"]
    if verb == "apply":
        if args:
            raise UsageError("usage: apply --filename=FILE")
        return objects.apply(state, namespace, flags["filename"])
    if verb == "delete":
        if not args or flags["wait"] != "false":
            raise UsageError("usage: delete KIND/NAME... --wait=false (the engine never waits)")
        return objects.delete(state, namespace, args, "ignore-not-found" in flags)
    if len(args) != 1:
        raise UsageError(f"usage: {verb} KIND/NAME")
    if verb == "scale":
        return objects.scale(state, namespace, args[0], flags["replicas"])
    if flags["type"] != "json":
        raise UsageError("the simulator takes --type=json patches only")
    return objects.patch_route(state, namespace, args[0], flags["patch"])


COMMON = {"namespace", "kubeconfig"}
SYNTAX: dict[tuple[str, str], tuple[set[str], set[str]]] = {
    # (verb, sub-verb): (allowed flags, required flags)
    ("get", ""): (
        COMMON | {"output", "request-timeout"},
        {"namespace", "output", "request-timeout"},
    ),
    ("set", "image"): (COMMON | {"request-timeout"}, {"namespace", "request-timeout"}),
    ("rollout", "status"): (COMMON | {"timeout"}, {"namespace", "timeout"}),
    ("rollout", "undo"): (
        COMMON | {"request-timeout", "to-revision"},
        {"namespace", "request-timeout"},
    ),
    ("config", "view"): ({"kubeconfig", "raw", "output"}, {"raw", "output"}),
    ("auth", "can-i"): (
        COMMON | {"request-timeout", "subresource"},
        {"namespace", "request-timeout"},
    ),
    ("apply", ""): (COMMON | {"request-timeout", "filename"}, {"namespace", "filename"}),
    ("scale", ""): (COMMON | {"request-timeout", "replicas"}, {"namespace", "replicas"}),
    ("delete", ""): (
        COMMON | {"request-timeout", "ignore-not-found", "wait"},
        {"namespace", "request-timeout", "wait"},
    ),
    ("patch", ""): (
        COMMON | {"request-timeout", "type", "patch"},
        {"namespace", "request-timeout", "type", "patch"},
    ),
    ("annotate", ""): (
        COMMON | {"request-timeout", "overwrite", "resource-version"},
        {"namespace", "request-timeout"},
    ),
}


def kubeconfig_mode(flags: dict[str, str]) -> str | None:
    path = flags.get("kubeconfig")
    if path is None:
        return None
    try:
        return oct(stat.S_IMODE(os.stat(path).st_mode))
    except OSError:
        raise CommandError(f"error: stat {path}: no such file or directory") from None


def ambient_kubeconfig() -> dict[str, str] | None:
    """The kubeconfig kubectl reads without --kubeconfig ($KUBECONFIG, a JSON kubeconfig as
    the cloud-login stand-ins write), and how its current context's user authenticates: the
    exec plugin's command line, or "token"."""
    path = os.environ.get("KUBECONFIG")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
        context = next(c for c in config["contexts"] if c["name"] == config["current-context"])
        user = next(u for u in config["users"] if u["name"] == context["context"]["user"])
    except (OSError, ValueError, KeyError, StopIteration) as error:
        raise CommandError(f"error: loading config file {path!r}: {error}") from None
    found = user["user"]
    if "exec" in found:
        auth = " ".join([found["exec"]["command"], *found["exec"].get("args", [])])
    else:
        auth = "token" if "token" in found else "none"
    return {"path": path, "auth": auth}


def dispatch(path: str, argv: list[str], flags: dict[str, str], positional: list[str]) -> str:
    verb = argv[0]
    if verb in ("rollout", "auth", "config") and len(positional) < 2:
        raise UsageError(f"usage: {verb} SUBCOMMAND …")
    if verb == "config":
        time.sleep(float(load(path).get("delays", {}).get("config", 0)))
        if len(positional) != 2 or flags["output"] != "json":
            raise UsageError("usage: config view --raw --output=json")
        return cmd_config_view(flags)
    if verb == "rollout" and len(positional) != 3:
        raise UsageError("usage: rollout status|undo deployment/NAME")
    if verb == "rollout" and positional[1] == "status":
        return cmd_status(path, positional[2:], flags)
    delay = load(path).get("delays", {}).get("undo" if verb == "rollout" else verb, 0)
    time.sleep(float(delay))
    with locked_state(path) as state:
        if verb == "get":
            return cmd_get(state, positional[1:], flags)
        if verb == "set":
            return cmd_set_image(state, positional[1:], flags)
        if verb == "auth":
            return cmd_can_i(state, positional[2:], flags)
        if verb in ("apply", "scale", "delete", "patch"):
            return cmd_object(state, verb, positional[1:], flags)
        if verb == "annotate":
            return cmd_annotate(state, positional[1:], flags)
        return cmd_undo(state, positional[2:], flags)


def load(path: str) -> State:
    with open(path, encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        state: State = json.load(handle)
    return state


def parse_command(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    verb = argv[0] if argv else ""
    sub = argv[1] if verb in ("set", "rollout", "config", "auth") and len(argv) > 1 else ""
    if (verb, sub) not in SYNTAX:
        raise UsageError(f"unknown command {' '.join(argv[:2])!r}")
    return parse_flags(argv, *SYNTAX[(verb, sub)])


def applies(state: State, switch: str, namespace: str | None) -> bool:
    """A switch is set for every namespace, or a list of the namespaces it applies to."""
    value = state.get(switch)
    if isinstance(value, list):
        return namespace in value
    return value not in (None, False, 0)


def record_call(path: str, call: dict[str, Any], namespace: str | None = None) -> bool:
    """Append the call to the log; return whether answers should quote the kubeconfig."""
    with locked_state(path) as state:
        state.setdefault("calls", []).append(call)
        return applies(state, "leak_kubeconfig", namespace)


def leak(kubeconfig: str) -> None:
    """Quote the kubeconfig as a careless verbose kubectl might: the file, then each user
    value on its own, in a form other than the file's."""
    with open(kubeconfig, encoding="utf-8", errors="replace") as handle:
        print(f"W0101 loading config:\n{handle.read()}", file=sys.stderr)
    try:
        users = json.loads(cmd_config_view({"kubeconfig": kubeconfig}))["users"] or []
    except CommandError:
        return
    for user in users:
        for key, value in sorted((user.get("user") or {}).items()):
            print(f"I0101 auth {user.get('name')}: {key}={json.dumps(value)}", file=sys.stderr)


def run(argv: list[str]) -> int:
    path = os.environ["KUBECTL_SIM_STATE"]
    call: dict[str, Any] = {"argv": argv, "kubeconfig_mode": None}
    try:
        try:
            positional, flags = parse_command(argv)
        except UsageError:
            call["rejected"] = True
            raise
        call["kubeconfig_mode"] = kubeconfig_mode(flags)
        if "kubeconfig" not in flags:
            call["ambient"] = ambient_kubeconfig()
    except UsageError as error:
        record_call(path, call)
        print(f"error: {error}\nSee 'kubectl --help' for usage.", file=sys.stderr)
        return 2
    except CommandError as error:
        record_call(path, call)
        print(error, file=sys.stderr)
        return 1
    if record_call(path, call, flags.get("namespace")) and "kubeconfig" in flags:
        leak(flags["kubeconfig"])
    try:
        output = dispatch(path, argv, flags, positional)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        if str(error):
            print(error, file=sys.stderr)
        return 1
    if output:
        print(output)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))

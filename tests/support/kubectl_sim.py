#!/usr/bin/env python3
"""A kubectl simulator: Deployments and their revision history in a JSON file.

It accepts exactly the commands the deploy engine runs (see cdgen.deploy.kubectl) and
rejects anything else with exit 2, as kubectl does for bad usage. The state file, named by
``KUBECTL_SIM_STATE``, holds:

    deployments   {"NS/NAME": {"containers": {C: IMAGE}, "serving": {C: IMAGE},
                               "revision": N, "history": [{"revision": N, "containers": {}}]}}
    never_ready   images whose rollout never completes (``rollout status`` times out)
    fail_undo     ``rollout undo`` fails (true, or a list of namespaces)
    leak_kubeconfig  every answer quotes the kubeconfig file, for redaction to hide
                     (true, or a list of namespaces)
    http          behaviour of the smoke server per image (see smoke_server.py)
    calls         every invocation, appended: argv, and the kubeconfig file's mode
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

State = dict[str, Any]
MUTATING = ("set", "undo")


class UsageError(Exception):
    pass


class CommandError(Exception):
    pass


@contextmanager
def locked_state(path: str) -> Iterator[State]:
    """Read-modify-write the state under an exclusive lock (the act tests run jobs at once)."""
    with open(path, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        state: State = json.load(handle)
        yield state
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
        match = re.fullmatch(r"--([a-z-]+)=(.+)", arg)
        if match is None or match.group(1) not in allowed or match.group(1) in flags:
            raise UsageError(f"unknown or malformed flag: {arg}")
        flags[match.group(1)] = match.group(2)
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


def apply_template(state: State, dep: dict[str, Any], containers: dict[str, str]) -> None:
    """A new template gets the next revision; an old template comes back with a new number."""
    history = [h for h in dep["history"] if h["containers"] != containers]
    revision = max([h["revision"] for h in dep["history"]] + [0]) + 1
    history.append({"revision": revision, "containers": dict(containers)})
    dep["history"] = history
    dep["containers"] = dict(containers)
    dep["revision"] = revision
    if not set(containers.values()) & set(state.get("never_ready", [])):
        dep["serving"] = dict(containers)


def cmd_get(state: State, args: list[str], flags: dict[str, str]) -> str:
    if len(args) != 1 or flags.get("output") != "json":
        raise UsageError("usage: get deployment/NAME --output=json")
    name = resource_name(args[0])
    dep = deployment(state, flags["namespace"], name)
    containers = [{"name": c, "image": i} for c, i in sorted(dep["containers"].items())]
    document = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": flags["namespace"],
            "annotations": {"deployment.kubernetes.io/revision": str(dep["revision"])},
        },
        "spec": {"template": {"spec": {"containers": containers}}},
    }
    return json.dumps(document, indent=2)


def cmd_set_image(state: State, args: list[str], flags: dict[str, str]) -> str:
    if len(args) != 3 or args[0] != "image" or args[2].count("=") != 1:
        raise UsageError("usage: set image deployment/NAME CONTAINER=IMAGE")
    name = resource_name(args[1])
    dep = deployment(state, flags["namespace"], name)
    container, image = args[2].split("=")
    if container not in dep["containers"]:
        raise CommandError(f'error: unable to find container named "{container}"')
    if dep["containers"][container] == image:
        return ""
    apply_template(state, dep, {**dep["containers"], container: image})
    return f"deployment.apps/{name} image updated"


def cmd_undo(state: State, args: list[str], flags: dict[str, str]) -> str:
    name = resource_name(args[0])
    dep = deployment(state, flags["namespace"], name)
    if applies(state, "fail_undo", flags["namespace"]):
        raise CommandError(
            f'error: failed to roll back deployment "{name}": the server is unavailable'
        )
    revisions = {h["revision"]: h["containers"] for h in dep["history"]}
    wanted = int(flags["to-revision"]) if "to-revision" in flags else sorted(revisions)[-2:][0]
    if wanted not in revisions:
        raise CommandError(f"error: unable to find specified revision {wanted} in history")
    if wanted == dep["revision"]:
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
        dep = deployment(state, flags["namespace"], name)
        stuck = bool(set(dep["containers"].values()) & set(state.get("never_ready", [])))
    if stuck:
        print(f'Waiting for deployment "{name}" rollout to finish: 1 old replicas are pending')
        sys.stdout.flush()
        time.sleep(int(timeout.group(1)))
        raise CommandError("error: timed out waiting for the condition")
    return f'deployment "{name}" successfully rolled out'


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
}


def kubeconfig_mode(flags: dict[str, str]) -> str | None:
    path = flags.get("kubeconfig")
    if path is None:
        return None
    try:
        return oct(stat.S_IMODE(os.stat(path).st_mode))
    except OSError:
        raise CommandError(f"error: stat {path}: no such file or directory") from None


def dispatch(path: str, argv: list[str], flags: dict[str, str], positional: list[str]) -> str:
    verb = argv[0]
    if verb == "rollout" and len(positional) != 3:
        raise UsageError("usage: rollout status|undo deployment/NAME")
    if verb == "rollout" and positional[1] == "status":
        return cmd_status(path, positional[2:], flags)
    with locked_state(path) as state:
        if verb == "get":
            return cmd_get(state, positional[1:], flags)
        if verb == "set":
            return cmd_set_image(state, positional[1:], flags)
        return cmd_undo(state, positional[2:], flags)


def parse_command(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    verb = argv[0] if argv else ""
    sub = argv[1] if verb in ("set", "rollout") and len(argv) > 1 else ""
    if (verb, sub) not in SYNTAX:
        raise UsageError(f"unknown command {' '.join(argv[:2])!r}")
    return parse_flags(argv, *SYNTAX[(verb, sub)])


def applies(state: State, switch: str, namespace: str | None) -> bool:
    """A switch is true for every namespace, or a list of the namespaces it applies to."""
    value = state.get(switch)
    return value is True or (isinstance(value, list) and namespace in value)


def record_call(path: str, call: dict[str, Any], namespace: str | None = None) -> bool:
    """Append the call to the log; return whether answers should quote the kubeconfig."""
    with locked_state(path) as state:
        state.setdefault("calls", []).append(call)
        return applies(state, "leak_kubeconfig", namespace)


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
    except UsageError as error:
        record_call(path, call)
        print(f"error: {error}\nSee 'kubectl --help' for usage.", file=sys.stderr)
        return 2
    except CommandError as error:
        record_call(path, call)
        print(error, file=sys.stderr)
        return 1
    if record_call(path, call, flags["namespace"]) and "kubeconfig" in flags:
        with open(flags["kubeconfig"], encoding="utf-8") as handle:
            print(f"W0101 loading config:\n{handle.read()}", file=sys.stderr)
    try:
        output = dispatch(path, argv, flags, positional)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(error, file=sys.stderr)
        return 1
    if output:
        print(output)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))

#!/usr/bin/env python3
"""Stand-ins for the cloud command-line tools the generated deploy jobs run: ``aws``, ``az``
and ``kubelogin``. Like the kubectl simulator, each accepts exactly the command lines the
workflows (and the stand-in actions) use and refuses anything else with exit 2.

    aws eks update-kubeconfig --name N --region R --kubeconfig PATH
        needs the role credentials configure-aws-credentials exports; writes a kubeconfig
        whose user runs ``aws eks get-token`` (as the real command does).
    az login --service-principal --username CLIENT --tenant TENANT --federated-token TOKEN
    az account set --subscription SUBSCRIPTION
    az aks get-credentials --resource-group RG --name N -f PATH [--subscription S]
        an Entra ID cluster's user kubeconfig (kubelogin, device code), after a login
    az acr login --name NAME
        a registry login in ~/.docker/config.json, after a login
    kubelogin convert-kubeconfig -l azurecli
        rewrites $KUBECONFIG's kubelogin user to take tokens from the az login

The az login is kept in $AZURE_CONFIG_DIR (default ~/.azure)/standin-login.json; every
accepted call is appended to the JSON-lines file $CLOUD_STANDIN_LOG. Kubeconfigs are written as JSON (which kubectl reads).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"  # the AKS AAD server application
UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


class Usage(Exception):
    pass


class Refused(Exception):
    pass


def log(tool: str, **fields: Any) -> None:
    with open(os.environ["CLOUD_STANDIN_LOG"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"tool": tool, **fields}, sort_keys=True) + "\n")


def flags(
    args: list[str], required: set[str], optional: frozenset[str] = frozenset()
) -> dict[str, str]:
    """``--flag value`` pairs, each exactly once; nothing else."""
    if len(args) % 2:
        raise Usage(f"expected --flag value pairs: {args}")
    found: dict[str, str] = {}
    for name, value in zip(args[::2], args[1::2], strict=True):
        if name not in required | optional or name in found or value.startswith("-"):
            raise Usage(f"unexpected or repeated flag: {name} {value}")
        found[name] = value
    if required - found.keys():
        raise Usage(f"missing flags: {sorted(required - found.keys())}")
    return found


def write_kubeconfig(path: str, cluster: str, user: dict[str, Any]) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": f"https://{cluster}.example"}}],
        "users": [{"name": cluster, "user": user}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
        "current-context": cluster,
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(config, indent=1), encoding="utf-8")
    target.chmod(0o600)


def aws(args: list[str]) -> str:
    if args[:2] != ["eks", "update-kubeconfig"]:
        raise Usage(f"only `aws eks update-kubeconfig` is expected: {args}")
    given = flags(args[2:], {"--name", "--region", "--kubeconfig"})
    token = os.environ.get("AWS_SESSION_TOKEN", "")
    if not (os.environ.get("AWS_ACCESS_KEY_ID") and token.startswith("standin:")):
        raise Refused(
            "Unable to locate credentials. You can configure credentials by running "
            '"aws configure".'
        )
    role = token.removeprefix("standin:")
    name, region = given["--name"], given["--region"]
    arn = f"arn:aws:eks:{region}:{role.split(':')[4]}:cluster/{name}"
    command = ["--region", region, "eks", "get-token", "--cluster-name", name, "--output", "json"]
    exec_user = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws"}
    write_kubeconfig(given["--kubeconfig"], arn, {"exec": {**exec_user, "args": command}})
    log(
        "aws",
        command="eks update-kubeconfig",
        cluster=name,
        region=region,
        role=role,
        kubeconfig=given["--kubeconfig"],
    )
    return f"Added new context {arn} to {given['--kubeconfig']}"


def az_state() -> Path:
    """Where az keeps its login: $AZURE_CONFIG_DIR, else ~/.azure (as the real CLI does)."""
    folder = os.environ.get("AZURE_CONFIG_DIR") or str(Path(os.environ["HOME"]) / ".azure")
    return Path(folder) / "standin-login.json"


def az_login_state() -> dict[str, str]:
    try:
        state: dict[str, str] = json.loads(az_state().read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Refused("Please run 'az login' to setup account.") from None
    return state


def docker_login(registry: str, username: str) -> None:
    config = Path(os.environ["HOME"]) / ".docker" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(config.read_text(encoding="utf-8")) if config.exists() else {}
    current.setdefault("auths", {})[registry] = {"auth": f"{username}:standin"}
    config.write_text(json.dumps(current), encoding="utf-8")


def az(args: list[str]) -> str:
    if args[:1] == ["login"]:
        if args[1:2] != ["--service-principal"]:
            raise Usage("only a service principal login with a federated token is expected")
        given = flags(args[2:], {"--username", "--tenant", "--federated-token"})
        if not (UUID.fullmatch(given["--username"]) and UUID.fullmatch(given["--tenant"])):
            raise Refused("client and tenant must be UUIDs")
        az_state().parent.mkdir(parents=True, exist_ok=True)
        state = {"client": given["--username"], "tenant": given["--tenant"]}
        az_state().write_text(json.dumps(state), encoding="utf-8")
        log("az", command="login", config=str(az_state().parent), **state)
        return "[]"
    state = az_login_state()
    if args[:2] == ["account", "set"]:
        state["subscription"] = flags(args[2:], {"--subscription"})["--subscription"]
        az_state().write_text(json.dumps(state), encoding="utf-8")
        log("az", command="account set", subscription=state["subscription"])
        return ""
    if args[:2] == ["aks", "get-credentials"]:
        return aks_credentials(state, args[2:])
    if args[:2] == ["acr", "login"]:
        name = flags(args[2:], {"--name"})["--name"]
        registry = f"{name}.azurecr.io"
        docker_login(registry, "00000000-0000-0000-0000-000000000000")
        log("az", command="acr login", registry=registry, client=state["client"])
        return "Login Succeeded"
    raise Usage(f"unexpected az command: {args}")


def aks_credentials(state: dict[str, str], args: list[str]) -> str:
    given = flags(args, {"--resource-group", "--name", "-f"}, frozenset({"--subscription"}))
    subscription = given.get("--subscription", state.get("subscription"))
    if subscription != state.get("subscription"):
        raise Refused(
            f"subscription {subscription} is not the one set ({state.get('subscription')})"
        )
    login = ["get-token", "--environment", "AzurePublicCloud", "--server-id", AKS_SERVER_ID]
    login += ["--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id"]
    login += [state["tenant"], "--login", "devicecode"]
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "kubelogin",
            "args": login,
        }
    }
    write_kubeconfig(given["-f"], given["--name"], user)
    log(
        "az",
        command="aks get-credentials",
        cluster=given["--name"],
        resource_group=given["--resource-group"],
        subscription=subscription,
        client=state["client"],
        kubeconfig=given["-f"],
    )
    return ""


def kubelogin(args: list[str]) -> str:
    if args != ["convert-kubeconfig", "-l", "azurecli"]:
        raise Usage(f"only `kubelogin convert-kubeconfig -l azurecli` is expected: {args}")
    az_login_state()  # azurecli mode takes its tokens from the az login
    path = Path(os.environ["KUBECONFIG"])
    config = json.loads(path.read_text(encoding="utf-8"))
    for entry in config["users"]:
        user = entry["user"]
        if user.get("exec", {}).get("command") == "kubelogin":
            user["exec"]["args"] = [
                "get-token",
                "--login",
                "azurecli",
                "--server-id",
                AKS_SERVER_ID,
            ]
    path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    log("kubelogin", command="convert-kubeconfig", kubeconfig=str(path))
    return ""


TOOLS = {"aws": aws, "az": az, "kubelogin": kubelogin}


def main(tool: str, args: list[str]) -> int:
    try:
        output = TOOLS[tool](args)
    except Usage as error:
        print(f"{tool} (stand-in): usage: {error}", file=sys.stderr)
        return 2
    except Refused as error:
        print(f"{tool} (stand-in): {error}", file=sys.stderr)
        return 1
    if output:
        print(output)
    return 0


def write_tools(directory: Path, python: str = sys.executable) -> tuple[Path, Path]:
    """``aws`` and ``az`` shims in directory/bin (for PATH), and ``kubelogin`` alone in
    directory/kubelogin, which only the use-kubelogin stand-in puts on PATH."""
    program = Path(__file__).resolve()
    bin_dir, kubelogin_dir = directory / "bin", directory / "kubelogin"
    for where, tool in ((bin_dir, "aws"), (bin_dir, "az"), (kubelogin_dir, "kubelogin")):
        where.mkdir(parents=True, exist_ok=True)
        shim = where / tool
        shim.write_text(f"#!/bin/sh\nexec '{python}' '{program}' {tool} \"$@\"\n", encoding="utf-8")
        shim.chmod(0o755)
    return bin_dir, kubelogin_dir


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))

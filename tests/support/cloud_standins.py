#!/usr/bin/env python3
"""Stand-ins for the cloud login actions under act, mapped over the pinned commits with
``--local-repository``. Each declares every input of the real action at its pinned commit
(the pin table's), checks each value cdgen passes against the identifier's rule, refuses any
other input set, and then does what the real action leaves behind for later steps: the
variables it exports, the files it writes, the az and docker logins (through the stand-in
tools of cloud_cli.py). Every accepted call is appended to $CLOUD_STANDIN_LOG.

    write_standins(directory) -> the act arguments mapping each pinned action to its stand-in
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a program: make the `support` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cdgen.pins import pin
from support.cloud_cli import UUID, docker_login, log

ROLE = r"arn:aws(?:-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+"
REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
PROVIDER = r"projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]+/providers/[a-z0-9-]+"
ACCOUNT = r"[a-z][-a-z0-9]{4,28}[a-z0-9]@[a-z][-a-z0-9]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com"
HOST = r"[a-z0-9.-]+(?::[0-9]+)?"
Inputs = dict[str, str]


class Refused(Exception):
    pass


@dataclass(frozen=True)
class Standin:
    required: dict[str, str]  # input -> the pattern its value must match
    effect: Callable[[Inputs], None]
    optional: dict[str, set[str]] = field(default_factory=dict)  # input -> accepted values
    outputs: tuple[str, ...] = ()


def append(variable: str, line: str) -> None:
    with open(os.environ[variable], "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def export(name: str, value: str) -> None:
    append("GITHUB_ENV", f"{name}={value}")


def run(*command: str, **env: str) -> None:
    environment = {**os.environ, **env}
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode:
        raise Refused(f"{' '.join(command[:3])} failed: {done.stderr.strip()}")


def fake_secret(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:24]


def aws_credentials(inputs: Inputs) -> None:
    role, region = inputs["role-to-assume"], inputs["aws-region"]
    secret = fake_secret("aws", role)
    print(f"::add-mask::{secret}")
    export("AWS_ACCESS_KEY_ID", "ASIASTANDIN" + secret[:9].upper())
    export("AWS_SECRET_ACCESS_KEY", secret)
    export("AWS_SESSION_TOKEN", f"standin:{role}")
    export("AWS_REGION", region)
    export("AWS_DEFAULT_REGION", region)
    log("configure-aws-credentials", role=role, region=region)


def ecr_login(inputs: Inputs) -> None:
    token, region = os.environ.get("AWS_SESSION_TOKEN", ""), os.environ.get("AWS_REGION", "")
    if not token.startswith("standin:"):
        raise Refused("no AWS credentials: configure-aws-credentials must run first")
    registry = f"{inputs['registries']}.dkr.ecr.{region}.amazonaws.com"
    docker_login(registry, "AWS")
    append("GITHUB_OUTPUT", f"registry={registry}")
    log("amazon-ecr-login", registry=registry, role=token.removeprefix("standin:"))


def google_auth(inputs: Inputs) -> None:
    account = inputs["service_account"]
    if inputs["token_format"] == "access_token":
        token = "ya29.standin-" + fake_secret("gcp", account)
        print(f"::add-mask::{token}")
        append("GITHUB_OUTPUT", f"access_token={token}")
    if inputs["create_credentials_file"] != "false":
        path = Path(os.environ["GITHUB_WORKSPACE"]) / f"gha-creds-{fake_secret(account)[:16]}.json"
        credentials = {"type": "external_account", "service_account": account}
        path.write_text(json.dumps(credentials), encoding="utf-8")
        if inputs["export_environment_variables"] != "false":
            export("GOOGLE_APPLICATION_CREDENTIALS", str(path))
            export("CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE", str(path))
    log(
        "google-github-actions/auth",
        provider=inputs["workload_identity_provider"],
        service_account=account,
        token_format=inputs["token_format"],
        credentials_file=inputs["create_credentials_file"] != "false",
    )


def gke_credentials(inputs: Inputs) -> None:
    credentials = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", "")
    if not credentials or not Path(credentials).is_file():
        raise Refused("no Google credentials: google-github-actions/auth must run first")
    account = json.loads(Path(credentials).read_text(encoding="utf-8"))["service_account"]
    from support.cloud_cli import write_kubeconfig

    token = "ya29.gke-" + fake_secret("gke", account)
    print(f"::add-mask::{token}")
    name = f"gke_{inputs['project_id']}_{inputs['location']}_{inputs['cluster_name']}"
    path = Path(os.environ["GITHUB_WORKSPACE"]) / f"gha-kubeconfig-{fake_secret(name)[:8]}"
    write_kubeconfig(str(path), name, {"token": token})
    export("KUBECONFIG", str(path))
    export("KUBE_CONFIG_PATH", str(path))
    log("get-gke-credentials", context=name, service_account=account, kubeconfig=str(path))


def docker_login_action(inputs: Inputs) -> None:
    docker_login(inputs["registry"], inputs["username"])
    log(
        "docker/login-action",
        registry=inputs["registry"],
        username=inputs["username"],
        password_sha256=hashlib.sha256(inputs["password"].encode()).hexdigest(),
    )


def azure_login(inputs: Inputs) -> None:
    client, tenant = inputs["client-id"], inputs["tenant-id"]
    token = "eyJ.standin-" + fake_secret("azure", client)
    run(
        "az",
        "login",
        "--service-principal",
        "--username",
        client,
        "--tenant",
        tenant,
        "--federated-token",
        token,
    )
    run("az", "account", "set", "--subscription", inputs["subscription-id"])
    log("azure/login", client=client, tenant=tenant, subscription=inputs["subscription-id"])


def use_kubelogin(inputs: Inputs) -> None:
    append("GITHUB_PATH", os.environ["STANDIN_KUBELOGIN_DIR"])
    log("azure/use-kubelogin", version=inputs["kubelogin-version"])


def aks_set_context(inputs: Inputs) -> None:
    path = str(Path(os.environ["RUNNER_TEMP"]) / f"kubeconfig_{int(time.time() * 1000)}")
    run(
        "az",
        "aks",
        "get-credentials",
        "--resource-group",
        inputs["resource-group"],
        "--name",
        inputs["cluster-name"],
        "-f",
        path,
        "--subscription",
        inputs["subscription"],
    )
    export("KUBECONFIG", path)
    export("KUBE_CONFIG_PATH", path)
    run("kubelogin", "convert-kubeconfig", "-l", "azurecli", KUBECONFIG=path)
    log("azure/aks-set-context", cluster=inputs["cluster-name"], kubeconfig=path)


STANDINS: dict[str, Standin] = {
    "aws-actions/configure-aws-credentials": Standin(
        {"role-to-assume": ROLE, "aws-region": REGION}, aws_credentials
    ),
    "aws-actions/amazon-ecr-login": Standin(
        {"registries": "[0-9]{12}"}, ecr_login, {}, ("registry",)
    ),
    "google-github-actions/auth": Standin(
        {"workload_identity_provider": PROVIDER, "service_account": ACCOUNT},
        google_auth,
        {
            "token_format": {"", "access_token"},
            "create_credentials_file": {"", "false"},
            "export_environment_variables": {"", "false"},
        },
        ("access_token",),
    ),
    "google-github-actions/get-gke-credentials": Standin(
        {
            "cluster_name": "[a-z][-a-z0-9]*",
            "location": "[a-z]+-[a-z]+[0-9]+(?:-[a-z])?",
            "project_id": "[a-z][-a-z0-9]{4,28}[a-z0-9]",
        },
        gke_credentials,
    ),
    "docker/login-action": Standin(
        {"registry": HOST, "username": ".+", "password": ".+"}, docker_login_action
    ),
    "azure/login": Standin(
        {"client-id": UUID.pattern, "tenant-id": UUID.pattern, "subscription-id": UUID.pattern},
        azure_login,
    ),
    "azure/use-kubelogin": Standin(
        {"kubelogin-version": r"v[0-9]+\.[0-9]+\.[0-9]+"}, use_kubelogin
    ),
    "azure/aks-set-context": Standin(
        {
            "resource-group": r"[A-Za-z0-9_().-]+",
            "cluster-name": "[A-Za-z0-9_-]+",
            "subscription": UUID.pattern,
            "use-kubelogin": "true",
        },
        aks_set_context,
        {"admin": {"", "false"}},
    ),
}


def check(repository: str, inputs: Inputs) -> None:
    standin = STANDINS[repository]
    for name, value in sorted(inputs.items()):
        if name in standin.required:
            if not re.fullmatch(standin.required[name], value):
                raise Refused(f"input {name} is {value!r}, not /{standin.required[name]}/")
        elif value not in standin.optional.get(name, {""}):
            raise Refused(f"input {name} is {value!r}: not an input cdgen passes this way")


def action_yml(repository: str, python: str) -> str:
    """The stand-in's action.yml: the real action's inputs at its pinned commit."""
    standin = STANDINS[repository]
    lines = [f"name: {repository} (stand-in)", "description: checks its inputs", "inputs:"]
    for name in sorted(pin(repository).inputs):
        lines += [
            f"  {name}:",
            "    description: as upstream",
            "    required: false",
            '    default: ""',
        ]
    if standin.outputs:
        lines.append("outputs:")
        for name in standin.outputs:
            lines += [
                f"  {name}:",
                "    description: as upstream",
                f"    value: ${{{{ steps.standin.outputs.{name} }}}}",
            ]
    program = Path(__file__).resolve()
    lines += [
        "runs:",
        "  using: composite",
        "  steps:",
        "    - id: standin",
        "      shell: bash",
        "      env:",
        "        STANDIN_INPUTS: ${{ toJSON(inputs) }}",
        f"      run: exec '{python}' '{program}' '{repository}'",
    ]
    return "\n".join(lines) + "\n"


def write_standins(directory: Path, python: str = sys.executable) -> list[str]:
    """A stand-in per cloud login action; returns act's --local-repository arguments."""
    arguments: list[str] = []
    for repository in sorted(STANDINS):
        folder = directory / repository.replace("/", "+")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "action.yml").write_text(action_yml(repository, python), encoding="utf-8")
        arguments += ["--local-repository", f"{pin(repository).uses}={folder}"]
    return arguments


def main(repository: str) -> int:
    inputs: Inputs = json.loads(os.environ["STANDIN_INPUTS"])
    try:
        check(repository, inputs)
        STANDINS[repository].effect(inputs)
    except Refused as error:
        print(f"::error title={repository} stand-in::{error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

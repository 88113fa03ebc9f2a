"""The stand-ins the act tests put in place of the cloud login actions and the cloud CLIs are
strict: they take exactly what the generated workflows pass and refuse anything else, so an
act run that passes proves the workflow's logins are what the real tools expect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.cloud_cli import write_tools
from support.cloud_standins import STANDINS, Refused, action_yml, check

from cdgen.pins import pin

ROLE = "arn:aws:iam::210987654321:role/cdgen-deploy"
UUID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


@pytest.fixture
def tools(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    bin_dir, kubelogin_dir = write_tools(tmp_path / "tools")
    env = {
        "PATH": f"{bin_dir}:{kubelogin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "CLOUD_STANDIN_LOG": str(tmp_path / "log.jsonl"),
    }
    return tmp_path, env


def _run(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def test_aws_writes_an_eks_kubeconfig_with_the_roles_credentials(
    tools: tuple[Path, dict[str, str]],
) -> None:
    tmp, env = tools
    path = tmp / "kubeconfig"
    args = ["aws", "eks", "update-kubeconfig", "--name", "prod", "--region", "eu-west-1"]
    args += ["--kubeconfig", str(path)]
    refused = _run(env, *args)
    assert refused.returncode == 1 and "Unable to locate credentials" in refused.stderr
    env |= {"AWS_ACCESS_KEY_ID": "ASIAX", "AWS_SESSION_TOKEN": f"standin:{ROLE}"}
    done = _run(env, *args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("Added new context arn:aws:eks:eu-west-1:210987654321:")
    config = json.loads(path.read_text())
    assert config["users"][0]["user"]["exec"]["args"][2:5] == ["eks", "get-token", "--cluster-name"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    "args",
    [
        ["aws", "eks", "update-kubeconfig", "--name", "prod", "--region", "eu-west-1"],
        [
            "aws",
            "eks",
            "update-kubeconfig",
            "--name",
            "p",
            "--region",
            "r",
            "--kubeconfig",
            "k",
            "--alias",
            "a",
        ],
        ["aws", "eks", "get-token", "--cluster-name", "prod"],
        ["az", "login", "--identity"],
        ["az", "aks", "install-cli"],
        ["kubelogin", "convert-kubeconfig", "-l", "devicecode"],
    ],
    ids=["no-kubeconfig", "extra-flag", "other-aws", "az-identity", "other-az", "kubelogin-mode"],
)
def test_anything_else_is_refused_as_bad_usage(
    tools: tuple[Path, dict[str, str]], args: list[str]
) -> None:
    _, env = tools
    env |= {"AWS_ACCESS_KEY_ID": "ASIAX", "AWS_SESSION_TOKEN": f"standin:{ROLE}"}
    (Path(env["HOME"]) / ".azure").mkdir(parents=True)
    (Path(env["HOME"]) / ".azure" / "standin-login.json").write_text(
        '{"client": "c", "tenant": "t"}'
    )
    done = _run(env, *args)
    assert done.returncode == 2, done.stderr
    assert "(stand-in): usage:" in done.stderr


def test_az_needs_a_login_then_writes_a_user_kubeconfig_kubelogin_converts(
    tools: tuple[Path, dict[str, str]],
) -> None:
    tmp, env = tools
    path = str(tmp / "aks")
    get = ["az", "aks", "get-credentials", "--resource-group", "rg", "--name", "aks", "-f", path]
    assert "Please run 'az login'" in _run(env, *get).stderr
    login = ["az", "login", "--service-principal", "--username", UUID, "--tenant", UUID]
    assert _run(env, *login, "--federated-token", "t").returncode == 0
    assert _run(env, "az", "account", "set", "--subscription", UUID).returncode == 0
    assert _run(env, *get, "--subscription", UUID).returncode == 0
    args = json.loads(Path(path).read_text())["users"][0]["user"]["exec"]["args"]
    assert args[-2:] == ["--login", "devicecode"]
    done = _run(env | {"KUBECONFIG": path}, "kubelogin", "convert-kubeconfig", "-l", "azurecli")
    assert done.returncode == 0, done.stderr
    args = json.loads(Path(path).read_text())["users"][0]["user"]["exec"]["args"]
    assert args[:3] == ["get-token", "--login", "azurecli"]
    other = _run(env, *get, "--subscription", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")
    assert other.returncode == 1 and "is not the one set" in other.stderr


def test_a_stand_in_takes_what_cdgen_passes_and_nothing_else() -> None:
    good = {name: "" for name in pin("aws-actions/configure-aws-credentials").inputs}
    good |= {"role-to-assume": ROLE, "aws-region": "eu-west-1"}
    check("aws-actions/configure-aws-credentials", good)
    with pytest.raises(Refused, match="input aws-secret-access-key is 'k'"):
        check("aws-actions/configure-aws-credentials", good | {"aws-secret-access-key": "k"})
    with pytest.raises(Refused, match="input role-to-assume is 'push'"):
        check("aws-actions/configure-aws-credentials", good | {"role-to-assume": "push"})
    aks = {name: "" for name in pin("azure/aks-set-context").inputs}
    aks |= {"resource-group": "rg", "cluster-name": "c", "subscription": UUID}
    with pytest.raises(Refused, match="input use-kubelogin is ''"):
        check("azure/aks-set-context", aks)
    with pytest.raises(Refused, match="input admin is 'true'"):
        check("azure/aks-set-context", aks | {"use-kubelogin": "true", "admin": "true"})


@pytest.mark.parametrize("repository", sorted(STANDINS))
def test_a_stand_in_declares_the_real_actions_inputs(repository: str) -> None:
    declared = YAML(typ="safe").load(action_yml(repository, sys.executable))
    assert set(declared["inputs"]) == pin(repository).inputs
    assert set(STANDINS[repository].required) <= pin(repository).inputs
    assert (
        os.path.basename(declared["runs"]["steps"][0]["run"].split("'")[3]) == "cloud_standins.py"
    )

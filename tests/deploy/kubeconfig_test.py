"""A kubeconfig given as content: a 0600 temporary file, passed with --kubeconfig, removed
afterwards; its secret values (and only those) never in the output, even when kubectl
prints them, whatever form the file has."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support.sandbox import GOOD, image

from .conftest import NAMESPACE, ROOT, Deploy, Sandbox

TOKEN = "s3cr3t-t0ken-4b1d9f0e6c"
KEY_DATA = "a2V5LWRhdGEtbm90LWZvci15b3Vy"
EXEC_SECRET = "exec-env-v4lue-7a0c"
PASSWORD = "pa55-w0rd-19e"
KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters:
- name: production
  cluster:
    server: https://10.1.2.3:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
users:
- name: deployer
  user:
    token: {TOKEN}
- name: staging
  user:
    client-certificate-data: Y2VydGlmaWNhdGU=
    client-key-data: {KEY_DATA}
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      env:
      - name: AWS_SECRET_ACCESS_KEY
        value: {EXEC_SECRET}
- name: basic
  user: {{username: admin, password: {PASSWORD}}}
contexts:
- name: production
  context: {{cluster: production, user: deployer, namespace: production}}
current-context: production
"""
SECRETS = (TOKEN, KEY_DATA, EXEC_SECRET, PASSWORD)


def _runner_temp(tmp_path: Path) -> Path:
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    return runner_temp


def assert_hidden(log: str, *secrets: str) -> None:
    """Each secret shows only in its own ``::add-mask::`` line, which GitHub hides."""
    for secret in secrets:
        lines = [line for line in log.splitlines() if secret in line]
        assert lines == [f"::add-mask::{secret}"], lines


def test_kubeconfig_is_private_temporary_and_never_printed(
    deploy: Deploy, sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.update(leak_kubeconfig=True)
    runner_temp = _runner_temp(tmp_path)
    env = {"CDGEN_KUBECONFIG": KUBECONFIG, "RUNNER_TEMP": str(runner_temp)}
    result = deploy("--image", image("broken"), env=env)
    assert result.code == 1  # rolled back: every kubectl command ran, and each quoted the file
    records = sandbox.call_records()
    assert [record["argv"][:2] for record in records] == [
        ["config", "view"],
        ["get", "deployment/api"],
        ["annotate", "deployment/api"],
        ["get", "deployment/api"],
        ["set", "image"],
        ["rollout", "status"],
        ["rollout", "undo"],
        ["rollout", "status"],
        ["get", "deployment/api"],
        ["annotate", "deployment/api"],
    ]
    paths = {arg for record in records for arg in record["argv"] if arg.startswith("--kubeconfig=")}
    assert len(paths) == 1
    path = Path(paths.pop().removeprefix("--kubeconfig="))
    assert path.parent == runner_temp
    assert {record["kubeconfig_mode"] for record in records} == {"0o600"}
    assert not path.exists()
    assert list(runner_temp.iterdir()) == []
    assert_hidden(result.log, *SECRETS)
    for secret in SECRETS:
        assert secret not in result.summary + "".join(result.outputs.values())
    assert "***" in result.log
    assert "| Read kubeconfig |" in result.summary


def test_only_secret_values_are_masked(deploy: Deploy, sandbox: Sandbox, tmp_path: Path) -> None:
    # Names, the cluster's address and its CA are not secrets: masking them hid the
    # environment's own name from the summary ("Environment | ***").
    sandbox.update(leak_kubeconfig=True)
    env = {"CDGEN_KUBECONFIG": KUBECONFIG, "RUNNER_TEMP": str(_runner_temp(tmp_path))}
    result = deploy("--image", image("v2"), "--environment", "production", env=env)
    assert result.code == 0, result.log
    assert "| Environment | production |" in result.summary
    assert "is live in production" in result.log
    assert "server: https://10.1.2.3:6443" in result.log
    assert "name: staging" in result.log
    assert_hidden(result.log, *SECRETS)


@pytest.mark.parametrize(
    "content",
    [
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "users": [{"name": "ci", "user": {"token": TOKEN}}],
            }
        ),
        f"apiVersion: v1\nkind: Config\nusers: [{{name: ci, user: {{token: {TOKEN}}}}}]\n",
        f'{{"apiVersion": "v1", "kind": "Config",\n "users": [{{"name": "ci", "user": {{"token": "{TOKEN}"}}}}]}}',
    ],
    ids=["one-line-json", "yaml-flow", "json"],
)
def test_secrets_are_found_in_any_form(
    deploy: Deploy, sandbox: Sandbox, tmp_path: Path, content: str
) -> None:
    sandbox.update(leak_kubeconfig=True)
    env = {"CDGEN_KUBECONFIG": content, "RUNNER_TEMP": str(_runner_temp(tmp_path))}
    result = deploy("--image", image("v2"), env=env)
    assert result.code == 0, result.log
    assert_hidden(result.log, TOKEN)
    assert 'auth ci: token="***"' in result.log  # kubectl echoed it, alone


def test_plain_log_masks_without_workflow_commands(
    deploy: Deploy, sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.update(leak_kubeconfig=True)
    env = {"CDGEN_KUBECONFIG": KUBECONFIG, "RUNNER_TEMP": str(_runner_temp(tmp_path))}
    result = deploy("--image", image("v2"), env=env, github=False)
    assert result.code == 0, result.log
    assert "::add-mask::" not in result.log
    for secret in SECRETS:
        assert secret not in result.log


def test_unreadable_kubeconfig_changes_nothing_and_quotes_nothing(
    deploy: Deploy, sandbox: Sandbox, tmp_path: Path
) -> None:
    broken = f"apiVersion: v1\nusers:\n- name: ci\n  user:\n    token: {TOKEN}\n   bad: [\n"
    env = {"CDGEN_KUBECONFIG": broken, "RUNNER_TEMP": str(_runner_temp(tmp_path))}
    result = deploy("--image", image("v2"), env=env)
    assert result.code == 1
    assert result.outputs == {
        "result": "failed",
        "previous-image": "",
        "deployed-image": "",
        "deployment-id": "",
    }
    assert sandbox.verbs() == ["config view"]
    assert sandbox.image() == GOOD
    assert "kubectl cannot read the kubeconfig (exit 1)" in result.log
    assert "error loading config file" in result.log  # kubectl's message, its words masked
    assert TOKEN not in result.log + result.summary


def test_non_utf8_kubeconfig_is_rejected_as_input(sandbox: Sandbox, tmp_path: Path) -> None:
    """The kubeconfig secret holds bytes that are not UTF-8: exit 2, named, nothing run."""
    output = tmp_path / "out"
    output.write_text("", encoding="utf-8")
    valid = b"apiVersion: v1\nusers:\n- name: "
    env = {
        b"PATH": os.environ["PATH"].encode(),
        b"PYTHONPATH": str(ROOT / "generator").encode(),
        b"GITHUB_OUTPUT": str(output).encode(),
        b"CDGEN_KUBECONFIG": valid + b"\xff\xfe" + TOKEN.encode(),
        b"CDGEN_IMAGE": image("v2").encode(),
        b"CDGEN_NAMESPACE": NAMESPACE.encode(),
        b"CDGEN_DEPLOYMENT": b"api",
    }
    done = subprocess.run(
        ["/usr/bin/python3", "-S", "-B", "-m", "cdgen.deploy"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"kubeconfig: not UTF-8 text (an invalid byte at offset {len(valid)})" in done.stdout
    assert TOKEN not in done.stdout + done.stderr
    assert sandbox.calls() == []


def test_kubeconfig_file_option_is_passed_through(
    deploy: Deploy, sandbox: Sandbox, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text(KUBECONFIG, encoding="utf-8")
    config.chmod(0o600)
    result = deploy("--image", image("v2"), "--kubeconfig-file", str(config))
    assert result.code == 0
    assert all(f"--kubeconfig={config}" in argv for argv in sandbox.calls())
    assert config.exists()


def test_ambient_kubeconfig_when_none_given(deploy: Deploy, sandbox: Sandbox) -> None:
    assert deploy("--image", image("v2")).code == 0
    assert not any(arg.startswith("--kubeconfig") for argv in sandbox.calls() for arg in argv)


def test_kubeconfig_is_removed_when_the_deploy_fails_early(
    deploy: Deploy, sandbox: Sandbox, tmp_path: Path
) -> None:
    runner_temp = _runner_temp(tmp_path)
    env = {"CDGEN_KUBECONFIG": KUBECONFIG, "RUNNER_TEMP": str(runner_temp)}
    result = deploy("--image", image("v2"), "--deployment", "missing", env=env)
    assert result.code == 1
    assert list(runner_temp.iterdir()) == []


def test_unwritable_runner_temp_changes_nothing(
    deploy: Deploy, sandbox: Sandbox, tmp_path: Path
) -> None:
    env = {"CDGEN_KUBECONFIG": KUBECONFIG, "RUNNER_TEMP": str(tmp_path / "missing")}
    result = deploy("--image", image("v2"), env=env)
    assert result.code == 1
    assert "kubeconfig: cannot create a file in" in result.log
    assert result.outputs["result"] == "failed"
    assert sandbox.calls() == []

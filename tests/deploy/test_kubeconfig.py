"""A kubeconfig given as content: a 0600 temporary file, passed with --kubeconfig, removed
afterwards, and never in the output even when kubectl prints it."""

from __future__ import annotations

from pathlib import Path

from support.sandbox import image

from .conftest import Deploy, Sandbox

TOKEN = "s3cr3t-t0ken-4b1d9f0e6c"
KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://10.1.2.3:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
users:
- name: deployer
  user:
    token: {TOKEN}
contexts:
- name: prod
  context: {{cluster: prod, user: deployer}}
current-context: prod
"""


def test_kubeconfig_is_private_temporary_and_never_printed(
    deploy: Deploy, sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.update(leak_kubeconfig=True)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    env = {"CDGEN_KUBECONFIG": KUBECONFIG, "RUNNER_TEMP": str(runner_temp)}
    result = deploy("--image", image("broken"), env=env)
    assert result.code == 1  # rolled back: every kubectl command ran, and each quoted the file
    records = sandbox.call_records()
    assert len(records) == 5
    paths = {arg for record in records for arg in record["argv"] if arg.startswith("--kubeconfig=")}
    assert len(paths) == 1
    path = Path(paths.pop().removeprefix("--kubeconfig="))
    assert path.parent == runner_temp
    assert {record["kubeconfig_mode"] for record in records} == {"0o600"}
    assert not path.exists()
    assert list(runner_temp.iterdir()) == []
    everything = result.log + result.summary + "".join(result.outputs.values())
    for secret in (TOKEN, "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t", "https://10.1.2.3:6443"):
        assert secret not in everything
    assert "***" in result.log


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
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    env = {"CDGEN_KUBECONFIG": KUBECONFIG, "RUNNER_TEMP": str(runner_temp)}
    result = deploy("--image", image("v2"), "--deployment", "missing", env=env)
    assert result.code == 1
    assert list(runner_temp.iterdir()) == []

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from support.init_repos import make_node_service, write

from cdgen.init.answers import InitAnswers, answers_from_detection
from cdgen.init.detect import detect_repository
from cdgen.init.github_setup import REVIEWER_PLACEHOLDER, setup_commands

# Records each call as one JSON line: its arguments and what it read on stdin.
FAKE_GH = """\
#!{python}
import json, os, sys
with open(os.environ["GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({{"args": sys.argv[1:], "stdin": sys.stdin.read()}}) + "\\n")
"""


def node_answers(tmp_path: Path) -> InitAnswers:
    return answers_from_detection(detect_repository(make_node_service(tmp_path / "api")))


def run_script(tmp_path: Path, lines: list[str]) -> list[dict[str, Any]]:
    """Run the lines in sh with a fake gh on PATH; return each gh call (args, stdin)."""
    bin_dir = tmp_path / "bin"
    write(bin_dir, "gh", FAKE_GH.format(python=sys.executable)).chmod(0o755)
    for env in ("staging", "production"):
        write(tmp_path, f"kubeconfig-{env}.yaml", f"apiVersion: v1\nkind: Config # {env}\n")
    log = tmp_path / "gh.log"
    script = "\n".join(lines).replace(REVIEWER_PLACEHOLDER, "4242")
    environ = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GH_LOG": str(log)}
    subprocess.run(
        ["sh", "-eu", "-c", script], cwd=tmp_path, env=environ, stdin=subprocess.DEVNULL, check=True
    )
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_commands_for_a_known_repository(tmp_path: Path) -> None:
    lines = setup_commands(node_answers(tmp_path))

    commands = [line for line in lines if not line.startswith("#")]
    policy = (
        '{"deployment_branch_policy":{"custom_branch_policies":true,"protected_branches":false}'
    )
    assert commands == [
        f"printf '%s\\n' '{policy}}}' | gh api --method PUT repos/Acme/Api/environments/staging"
        " --input -",
        "gh api --method POST repos/Acme/Api/environments/staging/deployment-branch-policies"
        " -f name=main -f type=branch",
        "gh secret set KUBE_CONFIG --env staging --repo Acme/Api < kubeconfig-staging.yaml",
        f'printf \'%s\\n\' \'{policy},"reviewers":[{{"id":YOUR_USER_ID,"type":"User"}}]}}\''
        " | gh api --method PUT repos/Acme/Api/environments/production --input -",
        "gh api --method POST repos/Acme/Api/environments/production/deployment-branch-policies"
        " -f name=main -f type=branch",
        "gh secret set KUBE_CONFIG --env production --repo Acme/Api < kubeconfig-production.yaml",
    ]
    comments = "\n".join(line for line in lines if line.startswith("#"))
    assert "gh api users/LOGIN --jq .id" in comments
    assert "Replace YOUR_USER_ID" in comments


def test_commands_run_in_a_posix_shell(tmp_path: Path) -> None:
    calls = run_script(tmp_path, setup_commands(node_answers(tmp_path)))

    staging, production = (
        "repos/Acme/Api/environments/staging",
        "repos/Acme/Api/environments/production",
    )
    policies = "/deployment-branch-policies"
    assert [call["args"] for call in calls] == [
        ["api", "--method", "PUT", staging, "--input", "-"],
        ["api", "--method", "POST", staging + policies, "-f", "name=main", "-f", "type=branch"],
        ["secret", "set", "KUBE_CONFIG", "--env", "staging", "--repo", "Acme/Api"],
        ["api", "--method", "PUT", production, "--input", "-"],
        ["api", "--method", "POST", production + policies, "-f", "name=main", "-f", "type=branch"],
        ["secret", "set", "KUBE_CONFIG", "--env", "production", "--repo", "Acme/Api"],
    ]
    staging_body, production_body = json.loads(calls[0]["stdin"]), json.loads(calls[3]["stdin"])
    assert "reviewers" not in staging_body
    assert production_body["reviewers"] == [{"type": "User", "id": 4242}]
    for body in (staging_body, production_body):
        assert body["deployment_branch_policy"] == {
            "protected_branches": False,
            "custom_branch_policies": True,
        }
    assert calls[2]["stdin"] == "apiVersion: v1\nkind: Config # staging\n"
    assert calls[5]["stdin"] == "apiVersion: v1\nkind: Config # production\n"


def test_placeholder_keeps_the_reviewers_command_from_running_unedited(tmp_path: Path) -> None:
    lines = setup_commands(node_answers(tmp_path))
    [command] = [c for c in lines if REVIEWER_PLACEHOLDER in c and not c.startswith("#")]
    body = command.split("'")[3]

    try:
        json.loads(body)
    except json.JSONDecodeError:
        pass
    else:
        raise AssertionError("the body must stay invalid until the reviewer id is filled in")
    # Still valid shell, so pasting the whole block only fails at that gh call.
    subprocess.run(["sh", "-n", "-c", command], check=True)


def test_unknown_repository_lets_gh_resolve_it(tmp_path: Path) -> None:
    answers = answers_from_detection(detect_repository(tmp_path))
    lines = setup_commands(answers)

    assert "'repos/{owner}/{repo}/environments/staging'" in lines[3]
    assert lines[6] == "gh secret set KUBE_CONFIG --env staging < kubeconfig-staging.yaml"
    calls = run_script(tmp_path, lines)
    assert calls[0]["args"][3] == "repos/{owner}/{repo}/environments/staging"
    assert calls[2]["args"] == ["secret", "set", "KUBE_CONFIG", "--env", "staging"]


def test_manual_and_none_approvals_need_no_reviewers(tmp_path: Path) -> None:
    answers = answers_from_detection(
        detect_repository(tmp_path), {"environments.production.approval": "manual"}
    )

    text = "\n".join(setup_commands(answers))

    assert REVIEWER_PLACEHOLDER not in text
    assert "# production: create it (deploys run only from a manual promotion)" in text


def test_branch_and_secret_names_are_quoted(tmp_path: Path) -> None:
    answers = node_answers(tmp_path)
    staging = replace(
        answers.environments[0],
        kubernetes=replace(answers.environments[0].kubernetes, kubeconfig_secret="STAGING_KUBE"),
    )
    answers = replace(answers, branch="release/v2.0", environments=(staging,))

    calls = run_script(tmp_path, setup_commands(answers))

    assert calls[1]["args"][-3:] == ["name=release/v2.0", "-f", "type=branch"]
    assert calls[2]["args"][:3] == ["secret", "set", "STAGING_KUBE"]
    assert len(calls) == 3


def test_before_the_first_deploy_names_each_namespace_and_applies_the_engines_role(
    tmp_path: Path,
) -> None:
    """init prints the README's "Before the first deploy" for each environment: the
    Deployment, pull access, and the Role of cdgen.deploy.rbac, as shell that parses."""
    from cdgen.deploy.rbac import role_manifest
    from cdgen.init.github_setup import first_deploy_steps

    answers = node_answers(tmp_path)
    lines = first_deploy_steps(answers)
    text = "\n".join(lines)
    for environment in answers.environments:
        namespace = environment.kubernetes.namespace
        assert (
            f"kubectl get deployment/{environment.kubernetes.deployment} --namespace {namespace}"
            in text
        )
        assert (
            f"kubectl apply --namespace {namespace} -f - <<'ROLE'\n{role_manifest(namespace)}ROLE"
            in text
        )
        assert f"create secret docker-registry ghcr-pull --namespace {namespace}" in text
    assert lines[-1] == "# Then check everything: cdgen doctor"
    parsed = subprocess.run(
        ["bash", "-n"], input=text + "\n", text=True, capture_output=True, check=False
    )
    assert parsed.returncode == 0, parsed.stderr

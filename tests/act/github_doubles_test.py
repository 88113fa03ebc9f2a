"""Under act, a job records a deployment with the engine's client and reads it back with
the fake gh, from the GitHub API double: the doubles work for workflow scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fake_gh import write_fake_gh
from support.fake_gh_attest import SLSA_V1, attestation
from support.github_api import GitHubApi
from support.github_state import GitHubState

from .conftest import ROOT, ActRun, init_repo, run_act

pytestmark = pytest.mark.slow

TOKEN = "ghs_act_9f2c41d0e7"
REPO = "acme/api"
DIGEST = "sha256:" + "d" * 64
SIGNER = f"https://github.com/{REPO}/.github/workflows/cd.yml@refs/heads/main"

RECORD = """
import os
from cdgen.deploy.records import Records
from cdgen.deploy.records_target import RecordTarget

target = RecordTarget(os.environ["API"], "acme/api", os.environ["TOKEN"], "production",
                      "https://example.com", os.environ["COMMIT"], "", True)
client = Records(target, print)
ident = client.open("ghcr.io/acme/api@" + os.environ["DIGEST"], "Deploy by cdgen")
print("closed:", client.close(ident, "success", "Deployed"))
"""
READ_BACK = """
set -euo pipefail
id=$(gh api "repos/acme/api/deployments?environment=production" --jq '.[0].id')
state=$(gh api "repos/acme/api/deployments/$id/statuses" --jq '.[0].state')
echo "read back: deployment $id is $state"
"""
VERIFY = f"""
set -euo pipefail
commit=$(gh attestation verify "oci://ghcr.io/acme/api@$DIGEST" --repo acme/api \\
  --cert-identity "{SIGNER}" --predicate-type {SLSA_V1} --format json \\
  --jq '.[0].verificationResult.signature.certificate.sourceRepositoryDigest')
echo "attested commit: $commit"
"""


@pytest.fixture(scope="module")
def github() -> Iterator[tuple[GitHubApi, str]]:
    state = GitHubState()
    (commit,) = state.add_history(REPO, 1)
    with GitHubApi(state, tokens=[TOKEN]) as api:
        yield api, commit


@pytest.fixture(scope="module")
def act_run(
    github: tuple[GitHubApi, str], action_checkout: Path, tmp_path_factory: pytest.TempPathFactory
) -> ActRun:
    api, commit = github
    gh_bin = write_fake_gh(
        tmp_path_factory.mktemp("gh"), {DIGEST: [attestation(REPO, commit)]}, "/usr/bin/python3"
    )
    env = {"API": api.url, "COMMIT": commit, "DIGEST": DIGEST}
    secret_env = {"TOKEN": "${{ secrets.GH_TOKEN }}", "GH_TOKEN": "${{ secrets.GH_TOKEN }}"}
    steps = [
        {"name": "Put gh on PATH", "run": f'echo "{gh_bin}" >> "$GITHUB_PATH"'},
        {
            "name": "Record a deployment",
            "env": {**secret_env, "PYTHONPATH": str(ROOT / "generator")},
            "run": f"python3 -S -c '{RECORD}'",
        },
        {"name": "Read it back", "env": secret_env, "run": READ_BACK},
        {"name": "Verify the attestation", "env": secret_env, "run": VERIFY},
    ]
    workflow = {
        "name": "doubles",
        "on": "push",
        "permissions": {},
        "env": {**env, "CDGEN_FAKE_GITHUB_API": api.url},
        "jobs": {"check": {"runs-on": "ubuntu-latest", "timeout-minutes": 5, "steps": steps}},
    }
    repo = tmp_path_factory.mktemp("repo")
    init_repo(repo, {".github/workflows/doubles.yml": json.dumps(workflow, indent=1)})
    event = {"ref": "refs/heads/main"}
    return run_act(repo, action_checkout, event=event, secrets=(f"GH_TOKEN={TOKEN}",))


def test_the_job_records_and_reads_back(act_run: ActRun, github: tuple[GitHubApi, str]) -> None:
    api, commit = github
    assert act_run.job_succeeded("check"), act_run.log
    assert "closed: True" in act_run.log
    deployment = api.state.repos[REPO].deployments[1]
    assert (deployment.sha, deployment.latest_state) == (commit, "success")
    assert "read back: deployment 1 is success" in act_run.log
    assert f"attested commit: {commit}" in act_run.log
    assert TOKEN not in act_run.log  # act masks the secret; nothing printed it unmasked


def test_every_request_used_the_token(act_run: ActRun, github: tuple[GitHubApi, str]) -> None:
    api, _ = github
    assert act_run.job_succeeded("check"), act_run.log
    schemes = {request.headers["authorization"] for request in api.requests}
    assert schemes == {f"Bearer {TOKEN}", f"token {TOKEN}"}  # the client's, then gh's
    assert dict(api.counts) == {
        "POST /repos/{owner}/{repo}/deployments": 1,
        "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses": 2,
        "GET /repos/{owner}/{repo}/deployments": 1,
        "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses": 1,
    }

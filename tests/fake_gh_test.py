"""The fake gh prints what gh prints for the forms the generated scripts use, and refuses
every other form with exit 2 before it asks anything."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.fake_gh import write_fake_gh
from support.fake_gh_attest import SLSA_V1, attestation
from support.fake_gh_jq import JQ_EXPRESSIONS, evaluate, format_value
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.http_json import request

REPO = "acme/api"
TOKEN = "ghs_test_token"
IMAGE = "ghcr.io/acme/api"
DIGEST = "sha256:" + "d" * 64
COMMIT = "c" * 40
SIGNER = f"https://github.com/{REPO}/.github/workflows/cd.yml@refs/heads/main"
VERIFY = [
    "attestation",
    "verify",
    f"oci://{IMAGE}@{DIGEST}",
    "--repo",
    REPO,
    "--cert-identity",
    SIGNER,
    "--predicate-type",
    SLSA_V1,
    "--format",
    "json",
]


@pytest.fixture
def state() -> GitHubState:
    seeded = GitHubState()
    seeded.add_history(REPO, 3)
    return seeded


@pytest.fixture
def api(state: GitHubState) -> Iterator[GitHubApi]:
    with GitHubApi(state) as server:
        yield server


@pytest.fixture
def gh_dir(tmp_path: Path) -> Path:
    attestations = {
        DIGEST: [attestation(REPO, COMMIT)],
        "sha256:" + "e" * 64: [attestation("acme/other", COMMIT)],
        "sha256:" + "f" * 64: [
            attestation(REPO, COMMIT, predicate_type="https://spdx.dev/Document")
        ],
        "sha256:" + "a" * 64: [attestation(REPO, COMMIT, ref="refs/heads/topic")],
    }
    write_fake_gh(tmp_path, attestations)
    return tmp_path


def gh(gh_dir: Path, api: GitHubApi, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        "PATH": f"{gh_dir / 'bin'}:/usr/bin:/bin",
        "GH_TOKEN": TOKEN,
        "CDGEN_FAKE_GITHUB_API": api.url,
        **env,
    }
    environ = {name: value for name, value in environ.items() if value}
    return subprocess.run(
        ["gh", *args], env=environ, capture_output=True, text=True, check=False, cwd=gh_dir
    )


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def head(state: GitHubState) -> str:
    return list(state.repos[REPO].commits)[-1]


def test_api_prints_the_raw_json(gh_dir: Path, api: GitHubApi, state: GitHubState) -> None:
    ident = state.add_deployment(REPO, head(state), "staging")
    done = gh(gh_dir, api, "api", f"repos/{REPO}/deployments/{ident}")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == ident
    assert not done.stdout.endswith("\n")  # gh copies the body as it came
    assert api.requests[0].headers["authorization"] == f"token {TOKEN}"


def test_api_jq_prints_one_value_a_line(gh_dir: Path, api: GitHubApi, state: GitHubState) -> None:
    ids = [state.add_deployment(REPO, head(state), "staging") for _ in range(3)]
    done = gh(
        gh_dir, api, "api", f"/repos/{REPO}/deployments?environment=staging", "--jq", ".[].id"
    )
    assert done.stdout == "".join(f"{ident}\n" for ident in ids[::-1])
    first = next(iter(state.repos[REPO].commits))
    compare = f"repos/{REPO}/compare/{first}...{head(state)}"
    assert gh(gh_dir, api, "api", compare, "-q", ".status").stdout == "ahead\n"
    commit = gh(gh_dir, api, "api", f"repos/{REPO}/commits/{first}", "--jq=.commit.committer.date")
    assert commit.stdout == "2024-01-01T00:00:00Z\n"
    assert gh(gh_dir, api, "api", f"repos/{REPO}/commits/main", "--jq", ".sha").stdout == (
        head(state) + "\n"
    )


def test_paginate_merges_pages_and_asks_for_100(
    gh_dir: Path, api: GitHubApi, state: GitHubState
) -> None:
    ids = [state.add_deployment(REPO, head(state)) for _ in range(230)]
    done = gh(gh_dir, api, "api", f"repos/{REPO}/deployments", "--paginate")
    assert done.returncode == 0, done.stderr
    assert [d["id"] for d in json.loads(done.stdout)] == ids[::-1]
    assert [r.query.get("per_page") for r in api.requests] == [["100"]] * 3
    lines = gh(gh_dir, api, "api", f"repos/{REPO}/deployments", "--paginate", "--jq", ".[].id")
    assert lines.stdout.split() == [str(ident) for ident in ids[::-1]]


def test_an_empty_last_page_still_makes_one_array(
    gh_dir: Path, api: GitHubApi, state: GitHubState
) -> None:
    for _ in range(4):
        state.add_deployment(REPO, head(state))
    done = gh(gh_dir, api, "api", f"repos/{REPO}/deployments?per_page=2", "--paginate")
    assert len(json.loads(done.stdout)) == 4


def test_http_errors_print_the_body_and_gh_message(gh_dir: Path, api: GitHubApi) -> None:
    for extra in ([], ["--jq", ".id"]):
        done = gh(gh_dir, api, "api", f"repos/{REPO}/deployments/99", *extra)
        assert done.returncode == 1
        assert json.loads(done.stdout)["message"] == "Not Found"
        assert done.stderr == "gh: Not Found (HTTP 404)\n"
    wrong = gh(gh_dir, api, "api", f"repos/{REPO}/deployments", GH_TOKEN="nope")
    assert (wrong.returncode, wrong.stderr) == (1, "gh: Bad credentials (HTTP 401)\n")


def test_a_token_is_required_as_gh_requires_it(gh_dir: Path, api: GitHubApi) -> None:
    done = gh(gh_dir, api, "api", f"repos/{REPO}/deployments", GH_TOKEN="")
    assert done.returncode == 4
    assert "set the GH_TOKEN environment variable" in done.stderr
    assert api.requests == []
    fallback = gh(gh_dir, api, "api", f"repos/{REPO}/deployments", GH_TOKEN="", GITHUB_TOKEN=TOKEN)
    assert fallback.returncode == 0


def test_jq_type_errors_fail_like_gh(gh_dir: Path, api: GitHubApi) -> None:
    done = gh(gh_dir, api, "api", f"repos/{REPO}/deployments", "--jq", ".status")
    assert done.returncode == 1
    assert done.stderr == "expected an object but got: array ([])\n"


def test_a_missing_value_prints_an_empty_line(gh_dir: Path, api: GitHubApi) -> None:
    assert gh(gh_dir, api, "api", f"repos/{REPO}/deployments", "--jq", ".[0].id").stdout == "\n"


def test_an_unreachable_api_fails_like_gh(gh_dir: Path, api: GitHubApi, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    done = gh(gh_dir, api, "api", f"repos/{REPO}/deployments", CDGEN_FAKE_GITHUB_API=url)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error connecting to 127.0.0.1:{closed_port}")


@pytest.mark.parametrize(
    "args",
    [
        ["api"],
        ["api", "repos/a/b/deployments", "repos/a/b/deployments"],
        ["api", "-X", "POST", f"repos/{REPO}/deployments"],
        ["api", "--method", "GET", f"repos/{REPO}/deployments"],
        ["api", f"repos/{REPO}/deployments", "-f", "ref=main"],
        ["api", f"repos/{REPO}/deployments", "--jq", ".[] | .id"],
        ["api", f"repos/{REPO}/deployments", "--jq"],
        ["api", f"repos/{REPO}/deployments", "--jq", ".id", "--jq", ".sha"],
        ["api", f"repos/{REPO}/deployments", "--paginate=true"],
        ["api", "repos/{owner}/{repo}/deployments"],
        ["api", f"https://api.github.com/repos/{REPO}/deployments"],
        ["pr", "list"],
        ["attestation", "download", f"oci://{IMAGE}@{DIGEST}", "--repo", REPO],
        [],
    ],
)
def test_api_refuses_other_forms(gh_dir: Path, api: GitHubApi, args: list[str]) -> None:
    done = gh(gh_dir, api, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("fake gh: ")
    assert "gh api PATH [--jq EXPR] [--paginate]" in done.stderr  # the usage
    assert done.stdout == "" and api.requests == []


def replaced(flag: str, value: str | None) -> list[str]:
    """VERIFY with ``flag``'s value changed, or the flag dropped (None)."""
    args = list(VERIFY)
    index = args.index(flag)
    if value is None:
        del args[index : index + 2]
    else:
        args[index + 1] = value
    return args


@pytest.mark.parametrize(
    "args",
    [
        replaced("--cert-identity", None),
        replaced("--predicate-type", None),
        replaced("--format", "table"),
        replaced("--predicate-type", "https://spdx.dev/Document"),
        [*VERIFY, "--repo", REPO],
        [*VERIFY, "--owner", "acme"],
        [*VERIFY, "--jq", ".[0].verificationResult"],
        ["attestation", "verify", f"oci://{IMAGE}:latest", *VERIFY[3:]],
        ["attestation", "verify", "./image.tar", *VERIFY[3:]],
    ],
)
def test_verify_refuses_other_forms(gh_dir: Path, api: GitHubApi, args: list[str]) -> None:
    done = gh(gh_dir, api, *args)
    assert done.returncode == 2, done.stderr
    assert "gh attestation verify oci://IMAGE@sha256:HEX" in done.stderr


def test_verify_prints_gh_json_shape(gh_dir: Path, api: GitHubApi) -> None:
    done = gh(gh_dir, api, *VERIFY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("]\n") and done.stdout.count("\n") == 1
    results = json.loads(done.stdout)
    assert len(results) == 1 and set(results[0]) == {"attestation", "verificationResult"}
    verification = results[0]["verificationResult"]
    assert list(verification) == [
        "mediaType",
        "signature",
        "verifiedTimestamps",
        "verifiedIdentity",
        "statement",
    ]
    certificate = verification["signature"]["certificate"]
    assert certificate["sourceRepositoryDigest"] == COMMIT
    assert certificate["subjectAlternativeName"] == certificate["buildSignerURI"] == SIGNER
    assert certificate["sourceRepositoryURI"] == f"https://github.com/{REPO}"
    assert certificate["sourceRepositoryRef"] == "refs/heads/main"
    assert certificate["issuer"] == "https://token.actions.githubusercontent.com"
    told = verification["statement"]
    assert told["predicateType"] == SLSA_V1
    assert told["subject"] == [{"name": IMAGE, "digest": {"sha256": "d" * 64}}]
    assert results[0]["attestation"]["bundle"]["dsseEnvelope"]["payloadType"] == (
        "application/vnd.in-toto+json"
    )
    assert "✓ Verification succeeded!" in done.stderr


def test_verify_jq_reads_the_source_commit(gh_dir: Path, api: GitHubApi) -> None:
    path = ".[0].verificationResult.signature.certificate.sourceRepositoryDigest"
    done = gh(gh_dir, api, *VERIFY, "--jq", path)
    assert (done.returncode, done.stdout) == (0, f"{COMMIT}\n")


@pytest.mark.parametrize(
    ("digest", "error"),
    [
        ("sha256:" + "0" * 64, f"Error: no attestations found for digest sha256:{'0' * 64} in"),
        ("sha256:" + "e" * 64, "✗ No attestations found for subject"),  # another repository's
        ("sha256:" + "f" * 64, "✗ No attestations found with predicate type: " + SLSA_V1),
        ("sha256:" + "a" * 64, f'expected SAN value "{SIGNER}", got "{SIGNER[:-4]}topic"'),
    ],
)
def test_verify_failures_exit_1(gh_dir: Path, api: GitHubApi, digest: str, error: str) -> None:
    args = [f"oci://{IMAGE}@{digest}" if arg.startswith("oci://") else arg for arg in VERIFY]
    done = gh(gh_dir, api, *args)
    assert done.returncode == 1
    assert error in done.stderr
    assert done.stdout == ""


def test_every_call_is_kept_in_the_state_file(gh_dir: Path, api: GitHubApi) -> None:
    gh(gh_dir, api, *VERIFY)
    gh(gh_dir, api, "pr", "list")
    state: dict[str, Any] = json.loads((gh_dir / "gh-state.json").read_text(encoding="utf-8"))
    assert state["calls"] == [VERIFY, ["pr", "list"]]


def test_verify_needs_a_token(gh_dir: Path, api: GitHubApi) -> None:
    assert gh(gh_dir, api, *VERIFY, GH_TOKEN="").returncode == 4


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("text", "text"),
        (3, "3"),
        (3.0, "3"),
        (2.5, "2.50"),
        (True, "true"),
        (None, ""),
        ({"b": 1, "a": "<&>"}, '{"a":"\\u003c\\u0026\\u003e","b":1}'),
        ([1, "x"], '[1,"x"]'),
    ],
)
def test_values_print_as_gh_prints_them(value: Any, shown: str) -> None:
    assert format_value(value) == shown


def test_every_listed_expression_is_a_path() -> None:
    document = [{"id": 1, "state": "success", "commit": {"committer": {"date": "d"}}}]
    for expression in JQ_EXPRESSIONS:
        evaluate(expression, [] if expression.startswith(".[") else {})  # no error on these
    assert evaluate(".[].state", document) == ["success"]
    assert evaluate(".commit.committer.date", document[0]) == ["d"]
    assert evaluate(".status", None) == [None]  # jq: .name of null is null


def test_the_shim_needs_no_pythonpath(gh_dir: Path, api: GitHubApi) -> None:
    """act runs the shim from a job's working directory with a bare environment (gh()
    passes only PATH, the token and the API URL, and runs in the state directory)."""
    done = gh(gh_dir, api, *VERIFY, "--jq", ".[0].verificationResult.statement.predicateType")
    assert (done.returncode, done.stdout) == (0, f"{SLSA_V1}\n")


@pytest.mark.parametrize("content", [None, "{not json", "[]"])
def test_a_broken_state_file_is_a_usage_error(
    gh_dir: Path, api: GitHubApi, content: str | None
) -> None:
    state_file = gh_dir / "gh-state.json"
    if content is None:
        state_file.unlink()
    else:
        state_file.write_text(content, encoding="utf-8")
    done = gh(gh_dir, api, *VERIFY)
    assert done.returncode == 2
    assert f"fake gh: cannot use the state file {state_file}" in done.stderr


def test_verify_on_an_enterprise_server(gh_dir: Path, api: GitHubApi, tmp_path: Path) -> None:
    """The generated scripts build the identity from $GITHUB_SERVER_URL."""
    server = "https://ghe.example.com"
    entry = attestation(REPO, COMMIT, server=server)
    write_fake_gh(tmp_path / "ghes", {DIGEST: [entry]})
    identity = f"{server}/{REPO}/.github/workflows/cd.yml@refs/heads/main"
    path = ".[0].verificationResult.signature.certificate.sourceRepositoryURI"
    done = gh(tmp_path / "ghes", api, *replaced("--cert-identity", identity), "--jq", path)
    assert (done.returncode, done.stdout) == (0, f"{server}/{REPO}\n"), done.stderr


# The gh calls of the generated promotion step (templates/_macros.j2 on the lead's branch).
PROMOTION_CHECKS = r"""
set -eo pipefail
passed=""
for id in $(gh api "repos/$GITHUB_REPOSITORY/deployments?environment=$previous&sha=$commit&per_page=100" --jq '.[].id'); do
  if gh api "repos/$GITHUB_REPOSITORY/deployments/$id/statuses?per_page=100" --jq '.[].state' | grep -qx success; then
    passed=$id
    break
  fi
done
committed=$(gh api "repos/$GITHUB_REPOSITORY/commits/$commit" --jq .commit.committer.date)
ancestry=$(gh api "repos/$GITHUB_REPOSITORY/compare/$BRANCH...$commit" --jq .status)
echo "passed=$passed committed=$committed ancestry=$ancestry"
"""


def test_the_promotion_checks_read_the_records(
    gh_dir: Path, api: GitHubApi, state: GitHubState
) -> None:
    older, newer = list(state.repos[REPO].commits)[-2:]
    at = "2024-02-01T00:00:00Z"
    state.add_deployment(REPO, older, "staging", [("failure", at)])
    passed = state.add_deployment(REPO, older, "staging", [("success", at)])
    state.add_deployment(REPO, older, "staging", [("in_progress", at), ("failure", at)])
    # A newer deploy succeeds through the API: GitHub marks the earlier success inactive,
    # which must not hide that the older commit passed staging.
    url = f"{api.url}/repos/{REPO}/deployments"
    newest = request(url, "POST", {"ref": newer, "environment": "staging"}).body
    request(f"{url}/{newest['id']}/statuses", "POST", {"state": "success"})
    assert state.repos[REPO].deployments[passed].latest_state == "inactive"
    env = {"GITHUB_REPOSITORY": REPO, "previous": "staging", "commit": older, "BRANCH": "main"}
    done = subprocess.run(
        ["bash", "-c", PROMOTION_CHECKS],
        env={"PATH": f"{gh_dir / 'bin'}:/usr/bin:/bin", "GH_TOKEN": TOKEN,
             "CDGEN_FAKE_GITHUB_API": api.url, **env},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    date = state.repos[REPO].commits[older].date
    assert done.stdout == f"passed={passed} committed={date} ancestry=behind\n"

"""Trust in GitHub's OIDC tokens, as shell lines for each cloud: who may present a token
(this repository, in both subject formats) and in which context (a branch or an
environment). The lines use the variables `preamble` sets."""

from __future__ import annotations

import json
import shlex
import textwrap

from cdgen.cloud import GcpIdentity

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
AZURE_AUDIENCE = "api://AzureADTokenExchange"
AWS_AUDIENCE = "sts.amazonaws.com"
# Lines needed once per account or pool, however many identities trust it.
ONCE = (
    "aws iam create-open-id-connect-provider ",
    "gcloud iam workload-identity-pools create ",
    "gcloud iam workload-identity-pools providers create-oidc ",
)


def preamble(repository: str | None, branch: str) -> list[str]:
    """The repository's two subject prefixes: repo:OWNER/NAME and, for repositories created
    after 2026-07-15, repo:OWNER@OWNER_ID/NAME@REPO_ID (read from GitHub with gh)."""
    found = (
        shlex.quote(repository)
        if repository
        else '"$(gh repo view --json nameWithOwner --jq .nameWithOwner)"'
    )
    return [
        "# GitHub's OIDC tokens name this repository as repo:OWNER/NAME or, for repositories",
        "# created after 2026-07-15, repo:OWNER@OWNER_ID/NAME@REPO_ID: every trust below takes",
        f"# both, and only from the deploy branch ({branch}) or from one environment. Run in bash.",
        f"REPO={found}",
        'OWNER_ID=$(gh api "repos/$REPO" --jq .owner.id)',
        'REPO_ID=$(gh api "repos/$REPO" --jq .id)',
        'IDS="${REPO%%/*}@$OWNER_ID/${REPO#*/}@$REPO_ID"',
    ]


def comment(text: str) -> list[str]:
    """`text` as shell comment lines of at most 94 characters."""
    return ["# " + line for line in textwrap.wrap(text, 92, break_on_hyphens=False)]


def subjects(context: str) -> list[str]:
    return [f"repo:$REPO:{context}", f"repo:$IDS:{context}"]


def aws_trust(role: str, context: str) -> list[str]:
    """The role, trusting GitHub's tokens of this repository in `context` only."""
    _, partition, _, _, account, resource = role.split(":", 5)
    path, name = resource.removeprefix("role").rsplit("/", 1)
    provider = f"arn:{partition}:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
    condition = {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": AWS_AUDIENCE,
            "token.actions.githubusercontent.com:sub": subjects(context),
        }
    }
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    }
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]}, indent=2)
    create = ["aws", "iam", "create-role", "--role-name", name]
    create += ["--path", path + "/"] if path else []
    return [
        f"aws iam create-open-id-connect-provider --url {GITHUB_ISSUER} "
        f"--client-id-list {AWS_AUDIENCE}  # once in account {account}",
        "TRUST=$(cat <<EOF",
        *trust.splitlines(),
        "EOF",
        ")",
        shlex.join(create) + ' --assume-role-policy-document "$TRUST"',
    ]


def google_principals(identity: GcpIdentity, context: str) -> list[str]:
    """The pool and provider (accepting this repository's tokens only), the service account,
    and its impersonation by the tokens of `context`."""
    _, number, _, _, _, pool, _, provider = identity.provider.split("/")
    account = identity.service_account
    name, project = account.split("@")[0], account.split("@")[1].split(".")[0]
    where = f"--project {number} --location global"
    mapping = "google.subject=assertion.sub,attribute.repository_id=assertion.repository_id"
    principal = f"principal://iam.googleapis.com/projects/{number}/locations/global/"
    principal += f"workloadIdentityPools/{pool}/subject/"
    lines = [
        f"gcloud iam workload-identity-pools create {pool} {where}  # once per pool",
        f"gcloud iam workload-identity-pools providers create-oidc {provider} {where} "
        f"--workload-identity-pool {pool} --issuer-uri {GITHUB_ISSUER} "
        f"--attribute-mapping {mapping} "
        "--attribute-condition \"assertion.repository_id == '$REPO_ID'\"  # once per pool",
        f"gcloud iam service-accounts create {name} --project {project}",
    ]
    for subject in subjects(context):
        lines.append(
            f"gcloud iam service-accounts add-iam-policy-binding {account} --project {project} "
            f'--role roles/iam.workloadIdentityUser --member "{principal}{subject}"'
        )
    return lines


def azure_credentials(client_id: str, context: str, name: str) -> list[str]:
    """Federated credentials of the app registration `client_id` for the tokens of
    `context` (a user-assigned managed identity: az identity federated-credential create)."""
    lines = []
    for index, subject in enumerate(subjects(context)):
        parameters = {
            "name": f"{name}-{index + 1}",
            "issuer": GITHUB_ISSUER,
            "subject": "%s",
            "audiences": [AZURE_AUDIENCE],
        }
        template = json.dumps(parameters, separators=(",", ":"))
        lines.append(
            f"az ad app federated-credential create --id {client_id} --parameters "
            f'"$(printf \'{template}\' "{subject}")"'
        )
    return lines


def once(lines: list[str]) -> list[str]:
    """`lines` without the repeats of a line needed once per account or pool."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        if line.startswith(ONCE):
            if line in seen:
                continue
            seen.add(line)
        kept.append(line)
    return kept

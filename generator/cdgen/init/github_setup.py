"""The one-time GitHub settings a new pipeline needs, as copy-pasteable `gh` commands."""

from __future__ import annotations

import json
import shlex

from cdgen.init.answers import EnvironmentAnswers, InitAnswers

REVIEWER_PLACEHOLDER = "YOUR_USER_ID"
# gh fills these in from the git remote of the directory the command runs in.
_CURRENT_REPOSITORY = "{owner}/{repo}"
_SENTINEL = "\0reviewer-id"


def setup_commands(answers: InitAnswers) -> list[str]:
    """POSIX shell lines (comments and commands) that configure the repository on GitHub.

    The environments get the deploy branch as their only allowed branch, reviewers where
    `approval: reviewers` (with a placeholder id the user replaces), and their kubeconfig
    secret read from `kubeconfig-<environment>.yaml`.
    """
    repository = answers.github_repository or _CURRENT_REPOSITORY
    lines = [
        f"# One-time GitHub settings for {repository}: run from a clone, with `gh auth login`",
        f"# as a repository admin. Each environment only accepts deploys from {answers.branch}.",
    ]
    for environment in answers.environments:
        deployments = deployment_names(answers, environment)
        lines += environment_commands(
            environment, answers.branch, answers.github_repository, deployments
        )
    return lines


def deployment_names(answers: InitAnswers, environment: EnvironmentAnswers) -> list[str]:
    """The Deployments the pipeline updates in the environment: each service's, or the one."""
    if answers.services:
        return [s.deployment or s.name for s in answers.services]
    return [environment.kubernetes.deployment or answers.name]


def environment_commands(
    environment: EnvironmentAnswers, branch: str, repository: str | None, deployments: list[str]
) -> list[str]:
    lines = environment_settings(
        environment.name, environment.approval, describe_approval(environment), branch, repository
    )
    what = "Deployment" if len(deployments) == 1 else "Deployments"
    lines.append(
        f"# kubeconfig-{environment.name}.yaml: a kubeconfig allowed to update {what} "
        f"{', '.join(deployments)} in namespace {environment.kubernetes.namespace}"
    )
    lines.append(secret_command(environment, repository))
    return lines


def environment_settings(
    name: str, approval: str, about: str, branch: str, repository: str | None
) -> list[str]:
    """The environment, its reviewers and its deploy branch, as shell lines."""
    path = f"repos/{repository or _CURRENT_REPOSITORY}/environments/{name}"
    settings: dict[str, object] = {
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True}
    }
    lines = [f"# {name}: {about}"]
    if approval == "reviewers":
        lines += [
            f"# Replace {REVIEWER_PLACEHOLDER} with a reviewer's id: gh api users/LOGIN --jq .id",
            '# (a team: "type":"Team" and gh api orgs/ORG/teams/TEAM --jq .id; up to 6 reviewers).',
        ]
        settings["reviewers"] = [{"type": "User", "id": _SENTINEL}]
    body = json.dumps(settings, separators=(",", ":"), sort_keys=True)
    # The placeholder leaves the JSON invalid until replaced: gh refuses it rather than
    # creating an environment nobody has to approve.
    body = body.replace(json.dumps(_SENTINEL), REVIEWER_PLACEHOLDER)
    put = ["gh", "api", "--method", "PUT", path, "--input", "-"]
    lines.append(f"printf '%s\\n' {shlex.quote(body)} | {shlex.join(put)}")
    policy = [path + "/deployment-branch-policies", "-f", f"name={branch}", "-f", "type=branch"]
    lines.append(shlex.join(["gh", "api", "--method", "POST", *policy]))
    return lines


def describe_approval(environment: EnvironmentAnswers) -> str:
    if environment.approval == "reviewers":
        return "create it with required reviewers, limit it to the deploy branch, add its secret"
    if environment.approval == "manual":
        return (
            "create it (deploys run only from a manual promotion), limit it to the deploy "
            "branch, add its secret"
        )
    return "create it, limit it to the deploy branch, add its kubeconfig secret"


def secret_command(environment: EnvironmentAnswers, repository: str | None) -> str:
    """`gh secret set` reading the environment's kubeconfig from a local file."""
    secret = environment.kubernetes.kubeconfig_secret
    command = ["gh", "secret", "set", secret, "--env", environment.name]
    if repository is not None:
        command += ["--repo", repository]
    return f"{shlex.join(command)} < {shlex.quote(f'kubeconfig-{environment.name}.yaml')}"


def first_deploy_steps(answers: InitAnswers) -> list[str]:
    """What to set up in each cluster before the first deploy (README: "Before the first
    deploy"), as shell lines: the pipeline sets the image of an existing Deployment and
    applies no manifest, so the Deployment, pull access and the deploy's Role are the user's."""
    from cdgen.deploy.rbac import role_manifest

    image = answers.image.repository or "<owner>/<repo>"
    lines = [
        "# cdgen's pipeline sets the image of an existing Deployment and applies no manifest.",
        "# In each environment's namespace, with that cluster's kubeconfig:",
    ]
    for environment in answers.environments:
        k8s = environment.kubernetes
        ns = shlex.quote(k8s.namespace)
        deployments = deployment_names(answers, environment)
        what = "Deployment" if len(deployments) == 1 else "Deployments"
        exist = "exists" if len(deployments) == 1 else "exist"
        lines += [
            f"# {environment.name}: 1. {what} {', '.join(deployments)} {exist} "
            "(with a readiness probe)",
            f"kubectl get {' '.join(f'deployment/{x}' for x in deployments)} --namespace {ns}",
            *pull_steps(answers, ns, image),
            "# 3. the kubeconfig's identity may do what the deploy does, and no more:",
            f"kubectl apply --namespace {ns} -f - <<'ROLE'",
            *role_manifest(k8s.namespace, features=_features(environment)).splitlines(),
            "ROLE",
            f"kubectl create rolebinding cdgen-deploy --role=cdgen-deploy --namespace {ns} "
            "--serviceaccount=NAMESPACE:ACCOUNT  # or --user=NAME",
        ]
    lines.append("# Then check everything: cdgen doctor")
    return lines


def pull_steps(answers: InitAnswers, ns: str, image: str) -> list[str]:
    """Step 2: how the cluster pulls; for a registry other than ghcr.io, the registry
    commands printed with the cloud access say how."""
    where = f"{answers.image.registry}/{image}"
    if answers.image.login is not None:
        return [f"# 2. the cluster can pull {where}: see Registry and cluster access below"]
    return [
        f"# 2. the cluster can pull {where}: make the package public,",
        "#    or give the namespace a pull secret from a token with read:packages:",
        f"kubectl create secret docker-registry ghcr-pull --namespace {ns} "
        "--docker-server=ghcr.io --docker-username=YOUR_USER --docker-password=YOUR_TOKEN",
        f"kubectl patch serviceaccount default --namespace {ns} "
        '-p \'{"imagePullSecrets": [{"name": "ghcr-pull"}]}\'',
    ]


def _features(environment: EnvironmentAnswers) -> tuple[str, ...]:
    from cdgen.deploy.rbac import features_of

    return features_of(environment.canary.traffic if environment.canary else None)

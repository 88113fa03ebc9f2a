"""What GitHub checks and does when a deployment or a deployment status is created.

Sources: https://docs.github.com/rest/deployments/deployments#create-a-deployment and
https://docs.github.com/rest/deployments/statuses#create-a-deployment-status. Request-body
type errors follow GitHub's schema validator (``Invalid request.\\n\\n"ref" wasn't
supplied.``); the exact wording of messages the docs do not quote is approximated.
"""

from __future__ import annotations

import json
from typing import Any

from support.github_graph import ancestors
from support.github_state import (
    DEPLOYMENTS_DOCS,
    MAX_STATUS_DESCRIPTION,
    STATES,
    STATUSES_DOCS,
    ApiError,
    Deployment,
    GitHubState,
    Repo,
    Status,
)

Body = dict[str, Any]
TYPE_NAMES = {bool: "a boolean", str: "a string", list: "an array", dict: "an object"}


def _shown(value: Any) -> str:
    return "nil" if value is None else json.dumps(value)


def _invalid(detail: str, docs: str) -> ApiError:
    return ApiError(422, f"Invalid request.\n\n{detail}", documentation_url=docs)


def _field(body: Body, name: str, kinds: tuple[type, ...], default: Any, docs: str) -> Any:
    if name not in body:
        return default
    value = body[name]
    # bool is an int in Python; GitHub's schema keeps them apart, and so must we.
    if not any(type(value) is kind for kind in kinds):
        wanted = " or ".join(TYPE_NAMES.get(kind, kind.__name__) for kind in kinds)
        raise _invalid(f"For 'properties/{name}', {_shown(value)} is not {wanted}.", docs)
    return value


def _require_object(body: Any, docs: str) -> Body:
    if not isinstance(body, dict):
        raise _invalid(f"For 'type', {_shown(body)} is not an object.", docs)
    return body


def create_deployment(state: GitHubState, repo: Repo, raw: Any, creator: str) -> Deployment:
    docs = DEPLOYMENTS_DOCS
    body = _require_object(raw, docs)
    if "ref" not in body:
        raise _invalid('"ref" wasn\'t supplied.', docs)
    ref = _field(body, "ref", (str,), "", docs)
    environment = _field(body, "environment", (str,), "production", docs)
    contexts = _field(body, "required_contexts", (list,), None, docs)
    payload = _field(body, "payload", (dict, str), {}, docs)
    description = body.get("description", "")
    if description is not None:
        description = _field(body, "description", (str,), "", docs)
    production = _field(body, "production_environment", (bool,), None, docs)
    with state.lock:
        commit = repo.resolve(ref)
        if commit is None:
            raise ApiError(422, f"No ref found for: {ref}", documentation_url=docs)
        if _field(body, "auto_merge", (bool,), True, docs):
            _check_not_behind_default(repo, commit.sha, ref)
        if contexts:  # none of these contexts has a commit status here: all are missing
            raise ApiError(
                409,
                f"Conflict: Commit status checks failed for {ref}.",
                errors=[
                    {
                        "contexts": [{"context": str(c), "state": "missing"} for c in contexts],
                        "resource": "Deployment",
                        "field": "required_contexts",
                        "code": "invalid",
                    }
                ],
                documentation_url=docs,
            )
        deployment = Deployment(
            id=state.next_id("deployment"),
            sha=commit.sha,
            ref=ref,
            task=_field(body, "task", (str,), "deploy", docs),
            payload=payload if payload != "" else {},
            environment=environment,
            original_environment=environment,
            description=description,
            created_at=state.timestamp(),
            transient=_field(body, "transient_environment", (bool,), False, docs),
            production=environment == "production" if production is None else production,
            creator=creator,
        )
        repo.deployments[deployment.id] = deployment
    return deployment


def _check_not_behind_default(repo: Repo, sha: str, ref: str) -> None:
    """auto_merge (default true) merges the default branch into a ref that is behind it;
    a commit SHA cannot take a merge, so GitHub refuses instead."""
    default_head = repo.branches.get(repo.default_branch)
    if default_head is None or default_head in ancestors(repo.commits, sha):
        return
    raise ApiError(
        409,
        f"Conflict merging {repo.default_branch} into {ref}.",
        documentation_url=DEPLOYMENTS_DOCS,
    )


def _validation_failed(field: str, message: str) -> ApiError:
    error = {"resource": "DeploymentStatus", "code": "custom", "field": field, "message": message}
    return ApiError(422, "Validation Failed", errors=[error], documentation_url=STATUSES_DOCS)


def _status_fields(body: Body) -> dict[str, Any]:
    docs = STATUSES_DOCS
    if "state" not in body:
        raise _invalid('"state" wasn\'t supplied.', docs)
    state = _field(body, "state", (str,), "", docs)
    if state not in STATES:
        allowed = ", ".join(STATES)
        raise _invalid(f"For 'properties/state', {_shown(state)} is not one of: {allowed}.", docs)
    fields = {
        name: _field(body, name, (str,), "", docs)
        for name in ("description", "environment", "environment_url", "log_url", "target_url")
    }
    if len(fields["description"]) > MAX_STATUS_DESCRIPTION:
        raise _validation_failed(
            "description",
            f"description is too long (maximum is {MAX_STATUS_DESCRIPTION} characters)",
        )
    for name in ("environment_url", "log_url", "target_url"):
        if fields[name] and not fields[name].startswith(("https://", "http://")):
            raise _validation_failed(name, f"{name} must use an http or https scheme")
    fields["state"] = state
    fields["auto_inactive"] = _field(body, "auto_inactive", (bool,), True, docs)
    return fields


def create_status(
    state: GitHubState, repo: Repo, deployment: Deployment, raw: Any, creator: str
) -> Status:
    fields = _status_fields(_require_object(raw, STATUSES_DOCS))
    with state.lock:
        # No environment: the previous status's, else the deployment's (GitHub's rule).
        previous = deployment.statuses[-1].environment if deployment.statuses else ""
        environment = fields["environment"] or previous or deployment.environment
        deployment.environment = environment
        status = Status(
            id=state.next_id("status"),
            state=fields["state"],
            description=fields["description"],
            environment=environment,
            environment_url=fields["environment_url"],
            log_url=fields["log_url"] or fields["target_url"],
            created_at=state.timestamp(),
            creator=creator,
        )
        deployment.statuses.append(status)
        if status.state == "success" and fields["auto_inactive"]:
            _inactivate_earlier(state, repo, deployment)
    return status


def _inactivate_earlier(state: GitHubState, repo: Repo, current: Deployment) -> None:
    """An earlier, still successful deployment of the same environment gets an ``inactive``
    status. The docs' parameter text still says "non-production": that limit belonged to
    the retired flash preview, which GitHub now applies to production environments too."""
    for earlier in repo.deployments.values():
        if (
            earlier.id < current.id
            and earlier.environment == current.environment
            and not earlier.transient
            and earlier.latest_state == "success"
        ):
            earlier.statuses.append(
                Status(
                    state.next_id("status"),
                    "inactive",
                    "",
                    earlier.environment,
                    earlier.statuses[-1].environment_url,
                    "",
                    state.timestamp(),
                )
            )

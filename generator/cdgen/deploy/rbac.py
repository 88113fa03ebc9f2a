"""The Kubernetes permissions the engine needs: one table for `cdgen doctor`, the README's
Role manifest and any strategy that needs more (each rule names the feature needing it).

What each kubectl command needs, read in kubectl's source (staging/src/k8s.io/kubectl):
- ``get deployment/NAME``: get deployments.
- ``set image``: get, then a strategic merge patch of the Deployment (cmd/set/set_image.go).
- ``rollout status``: get through the resource builder, then a list and a watch of
  deployments with a ``metadata.name`` field selector (cmd/rollout/rollout_status.go); the
  status is read from the Deployment alone, no ReplicaSet is read.
- ``rollout undo``: get the Deployment, list its ReplicaSets to find the revision
  (deploymentutil.GetAllReplicaSets), then a JSON patch of the Deployment
  (polymorphichelpers/rollback.go).
- ``annotate`` (the deploy lock, taken and freed): get through the resource builder
  (``Latest()``), then a JSON merge patch of the Deployment carrying the resourceVersion
  read, which the API server checks (cmd/annotate/annotate.go; it would fall back to an
  update only if the merge patch could not be computed, which two JSON objects always can).
``kubectl auth can-i`` (doctor) creates a SelfSubjectAccessReview, which every authenticated
user may do through the default ``system:basic-user`` ClusterRole.

A canary (feature ``canary``) adds, for ``<deployment>-canary``:
- ``apply``: get the object, then create it, or patch it when it exists (a leftover);
- ``scale``: get through the resource builder, then a merge patch of the ``scale``
  subresource (pkg/scale, ScaleSimple without preconditions);
- ``delete --wait=false``: delete only (the builder does not read the object).
With ``canary-traffic: gateway`` (feature ``canary-gateway``) the same for its Service, and
``get`` then a JSON ``patch`` of the HTTPRoute.
"""

from __future__ import annotations

from dataclasses import dataclass

DEPLOY = "deploy"
CANARY = "canary"
CANARY_GATEWAY = "canary-gateway"


@dataclass(frozen=True)
class Rule:
    api_group: str
    resource: str
    verbs: tuple[str, ...]
    why: str
    feature: str = DEPLOY

    @property
    def qualified(self) -> str:
        """``resource.group`` as ``kubectl auth can-i`` takes it (``pods`` for the core group);
        a subresource follows a slash: ``deployments/scale.apps``."""
        return f"{self.resource}.{self.api_group}" if self.api_group else self.resource


def can_i_args(verb: str, qualified: str) -> list[str]:
    """``auth can-i`` for a qualified resource; a subresource goes in ``--subresource``."""
    kind, _, group = qualified.partition(".")
    plural, _, subresource = kind.partition("/")
    args = ["auth", "can-i", verb, f"{plural}.{group}" if group else plural]
    return [*args, f"--subresource={subresource}"] if subresource else args


def features_of(canary: str | None) -> tuple[str, ...]:
    """The features an environment uses: its canary's traffic (None: no canary)."""
    if canary is None:
        return (DEPLOY,)
    return (DEPLOY, CANARY, CANARY_GATEWAY) if canary == "gateway" else (DEPLOY, CANARY)


RULES: tuple[Rule, ...] = (
    Rule(
        "apps",
        "deployments",
        ("get", "list", "watch", "patch"),
        "read the live image; set image, rollout undo and the deploy lock's annotation patch "
        "it; rollout status watches it",
    ),
    Rule("apps", "replicasets", ("list",), "rollout undo finds the ReplicaSet of a revision"),
    Rule(
        "apps",
        "deployments",
        ("create", "delete"),
        "create a canary, <deployment>-canary (apply), and delete it at the end",
        CANARY,
    ),
    Rule("apps", "deployments/scale", ("patch",), "scale a canary step by step", CANARY),
    Rule(
        "",
        "services",
        ("get", "create", "patch", "delete"),
        "apply a gateway canary's own Service (patched when left over) and delete it after",
        CANARY_GATEWAY,
    ),
    Rule(
        "gateway.networking.k8s.io",
        "httproutes",
        ("get", "patch"),
        "reweight a gateway canary's HTTPRoute step by step, then restore it",
        CANARY_GATEWAY,
    ),
)


def rules_for(features: tuple[str, ...] = (DEPLOY,)) -> list[Rule]:
    return [rule for rule in RULES if rule.feature in features]


def permissions(features: tuple[str, ...] = (DEPLOY,)) -> list[tuple[str, str, str]]:
    """Every (verb, qualified resource, why) to check, in table order."""
    return [(verb, rule.qualified, rule.why) for rule in rules_for(features) for verb in rule.verbs]


def role_manifest(
    namespace: str, name: str = "cdgen-deploy", features: tuple[str, ...] = (DEPLOY,)
) -> str:
    """A namespaced Role granting exactly what the engine runs, as YAML text."""
    lines = [
        "apiVersion: rbac.authorization.k8s.io/v1",
        "kind: Role",
        "metadata:",
        f"  name: {name}",
        f"  namespace: {namespace}",
        "rules:",
    ]
    for rule in rules_for(features):
        verbs = ", ".join(f'"{verb}"' for verb in rule.verbs)
        lines += [
            f"  # {rule.why}",
            f'  - apiGroups: ["{rule.api_group}"]',
            f'    resources: ["{rule.resource}"]',
            f"    verbs: [{verbs}]",
        ]
    return "\n".join(lines) + "\n"

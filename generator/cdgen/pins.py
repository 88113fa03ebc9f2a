"""The one table of third-party actions the generated workflows may use, and the pins in
generated files: found, blanked for the body hash, and kept when a bot moved them.

Each pin is the commit its tag points to (facts from ``reference/action-pins.md``); the
``inputs`` are exactly the ``inputs:`` keys of that action's ``action.yml`` at that commit,
read with ``git show <sha>:action.yml`` from a clone of the action's repository. actionlint
does not check ``with:`` keys of SHA-pinned actions, so this table is what a test checks
every template's ``with:`` keys against.

To bump an action: change ``sha`` and ``tag`` together, then re-read ``inputs`` from the
new commit's ``action.yml``; never copy them from the README or a newer tag. The tools an
action downloads by version (``TOOL_RELEASES``) are pinned to a release tag the same way.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# A `uses:` line pinned to a full commit SHA, with an optional `# tag` comment.
_PIN_LINE = re.compile(
    r"^(?P<lead>\s*(?:-\s+)?uses:\s+)(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)"
    r"@(?P<sha>[0-9a-f]{40})(?P<comment>\s+#\s*(?P<tag>\S+))?\s*$"
)


@dataclass(frozen=True)
class Pin:
    """A third-party action pinned to the full commit SHA of a release tag."""

    repository: str
    sha: str
    tag: str
    inputs: frozenset[str]

    @property
    def uses(self) -> str:
        """The ``uses:`` value; templates append ``# <tag>`` as the comment zizmor checks."""
        return f"{self.repository}@{self.sha}"


def _pin(repository: str, tag: str, sha: str, inputs: str) -> Pin:
    return Pin(repository=repository, sha=sha, tag=tag, inputs=frozenset(inputs.split()))


_ALL = (
    _pin(
        "actions/attest-build-provenance",
        "v4.1.0",
        "a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32",
        """
        create-storage-record github-token predicate predicate-path predicate-type
        push-to-registry show-summary subject-checksums subject-digest subject-name
        subject-path
        """,
    ),
    _pin(
        "actions/checkout",
        "v7.0.1",
        "3d3c42e5aac5ba805825da76410c181273ba90b1",
        """
        allow-unsafe-pr-checkout clean fetch-depth fetch-tags filter github-server-url lfs
        path persist-credentials ref repository set-safe-directory show-progress
        sparse-checkout sparse-checkout-cone-mode ssh-key ssh-known-hosts ssh-strict
        ssh-user submodules token
        """,
    ),
    _pin(
        "actions/download-artifact",
        "v8.0.1",
        "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
        """
        artifact-ids digest-mismatch github-token merge-multiple name path pattern
        repository run-id skip-decompress
        """,
    ),
    _pin(
        "actions/setup-node",
        "v7.0.0",
        "820762786026740c76f36085b0efc47a31fe5020",
        """
        architecture cache cache-dependency-path check-latest mirror mirror-token
        node-version node-version-file package-manager-cache registry-url scope token
        """,
    ),
    _pin(
        "actions/upload-artifact",
        "v7.0.0",
        "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
        """
        archive compression-level if-no-files-found include-hidden-files name overwrite
        path retention-days
        """,
    ),
    _pin(
        "aws-actions/amazon-ecr-login",
        "v2.1.7",
        "03f1aad4c6c7ffd436567f42f9384779290529bd",
        "http-proxy mask-password registries registry-type skip-logout",
    ),
    _pin(
        "aws-actions/configure-aws-credentials",
        "v6.2.3",
        "e6de054238d6b7531b4efff3b6587d9aade6a06c",
        """
        action-timeout-s allowed-account-ids audience aws-access-key-id aws-profile
        aws-region aws-secret-access-key aws-session-token custom-tags disable-retry
        force-skip-oidc http-proxy inline-session-policy managed-session-policies
        mask-aws-account-id no-proxy output-credentials output-env-credentials
        overwrite-aws-profile retry-max-attempts role-chaining role-duration-seconds
        role-external-id role-session-name role-skip-session-tagging role-to-assume
        special-characters-workaround sts-endpoint transitive-tag-keys
        unset-current-credentials use-existing-credentials web-identity-token-file
        """,
    ),
    _pin(
        "azure/aks-set-context",
        "v5.0.0",
        "60623acbdcbbdcf799ad50a1adf8703874339f8b",
        "admin cluster-name public-fqdn resource-group resource-type subscription use-kubelogin",
    ),
    _pin(
        "azure/login",
        "v3.0.1",
        "f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca",
        """
        allow-no-subscriptions audience auth-type client-id creds enable-AzPSSession
        environment subscription-id tenant-id
        """,
    ),
    _pin(
        "azure/use-kubelogin",
        "v1.3",
        "0ce7c36141aa27d4934872cf00b0120804c98a29",
        "github-api-base-url kubelogin-version skip-cache",
    ),
    _pin(
        "docker/build-push-action",
        "v7.3.0",
        "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a",
        """
        add-hosts allow annotations attests build-args build-contexts builder cache-from
        cache-to call cgroup-parent context file github-token labels load network no-cache
        no-cache-filters outputs platforms provenance pull push sbom secret-envs
        secret-files secrets shm-size ssh tags target ulimit
        """,
    ),
    _pin(
        "docker/login-action",
        "v4.1.0",
        "4907a6ddec9925e35a0a9e82d7399ccc52663121",
        "ecr logout password registry registry-auth scope username",
    ),
    _pin(
        "docker/metadata-action",
        "v6.2.0",
        "dc802804100637a589fabce1cb79ff13a1411302",
        """
        annotations bake-target context flavor github-token images labels
        sep-annotations sep-labels sep-tags tags
        """,
    ),
    _pin(
        "docker/setup-buildx-action",
        "v4.3.0",
        "37fe631027851001ddb9b187196cc803df7f5f0e",
        """
        append buildkitd-config buildkitd-config-inline buildkitd-flags cache-binary
        cleanup driver driver-opts endpoint keep-state name platforms use version
        """,
    ),
    _pin(
        "docker/setup-qemu-action",
        "v4.2.0",
        "96fe6ef7f33517b61c61be40b68a1882f3264fb8",
        "cache-image image platforms reset",
    ),
    _pin(
        "google-github-actions/auth",
        "v3.0.0",
        "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093",
        """
        access_token_lifetime access_token_scopes access_token_subject audience
        cleanup_credentials create_credentials_file credentials_json delegates
        export_environment_variables id_token_audience id_token_include_email project_id
        request_reason service_account token_format universe workload_identity_provider
        """,
    ),
    _pin(
        "google-github-actions/get-gke-credentials",
        "v3.0.0",
        "3da1e46a907576cefaa90c484278bb5b259dd395",
        """
        cluster_name context_name fleet_membership_name location namespace project_id
        quota_project_id use_auth_provider use_connect_gateway use_dns_based_endpoint
        use_internal_ip
        """,
    ),
)

PINS: dict[str, Pin] = {p.repository: p for p in sorted(_ALL, key=lambda p: p.repository)}


@dataclass(frozen=True)
class ToolRelease:
    """A tool a pinned action downloads, pinned to a release (else it takes the newest)."""

    repository: str
    tag: str


# azure/use-kubelogin installs this kubelogin release (it checks the release's sha256 file).
KUBELOGIN = ToolRelease("Azure/kubelogin", "v0.2.19")
TOOL_RELEASES: tuple[ToolRelease, ...] = (KUBELOGIN,)


def pin(repository: str) -> Pin:
    """Return the pin for ``owner/name``; a KeyError names the actions that are pinned."""
    try:
        return PINS[repository]
    except KeyError:
        known = ", ".join(PINS)
        message = f"no pin for action {repository!r}; add it to cdgen.pins (pinned: {known})"
        raise KeyError(message) from None


# Actions a generated body's hash ignores the pin of: every action this table ever held.
# An action leaving the table stays listed here, so files generated while it was in the
# table still verify. cdgen's own action is never listed: the descriptor decides its pin,
# so a changed pin of it is an edit.
RETIRED: frozenset[str] = frozenset()
BOT_MOVABLE: frozenset[str] = frozenset(PINS) | RETIRED


@dataclass(frozen=True)
class Pinned:
    """A SHA-pinned `uses:` found in a generated file."""

    action: str
    sha: str
    tag: str | None


def find_pins(body: str) -> dict[str, Pinned]:
    pins: dict[str, Pinned] = {}
    for line in body.split("\n"):
        match = _PIN_LINE.match(line)
        if match:
            pins[match["action"]] = Pinned(match["action"], match["sha"], match["tag"])
    return pins


def normalize_pins(body: str, actions: frozenset[str] | None) -> str:
    """The body with the SHA-pinned `uses:` of `actions` (None: every action) blanked."""

    def blank(match: re.Match[str]) -> str:
        if actions is not None and match["action"] not in actions:
            return match[0]
        return f"{match['lead']}{match['action']}@pinned"

    return "\n".join(_PIN_LINE.sub(blank, line) for line in body.split("\n"))


def table_record(body: str) -> str:
    """A digest of this table's pins for the third-party actions `body` uses.

    The header stores it: while it still matches, the table has not moved any pin of
    that file, so a newer pin found there (a bot's bump) may be kept.
    """
    entries = sorted(
        f"{p.repository}@{p.sha} # {p.tag}" for name in find_pins(body) if (p := PINS.get(name))
    )
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:32]


def keep_newer_pins(body: str, existing: dict[str, Pinned]) -> str:
    """`body` with each third-party pin replaced by the existing one naming a newer release.

    cdgen's own action is never kept: it is not in the table, and the descriptor decides it.
    """

    def newer(match: re.Match[str]) -> str:
        old = existing.get(match["action"])
        if match["action"] not in BOT_MOVABLE or old is None or old.tag is None:
            return match[0]
        if not is_newer(old.tag, match["tag"]):
            return match[0]
        return f"{match['lead']}{old.action}@{old.sha} # {old.tag}"

    return "\n".join(_PIN_LINE.sub(newer, line) for line in body.split("\n"))


def is_newer(candidate: str, current: str | None) -> bool:
    a, b = _version(candidate), _version(current or "")
    return a is not None and b is not None and a > b


def _version(tag: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"v?([0-9]+(?:\.[0-9]+)*)", tag)
    return tuple(int(x) for x in match[1].split(".")) if match else None

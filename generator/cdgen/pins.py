"""The one table of third-party actions the generated workflows may use.

Each pin is the commit its tag points to (facts from ``reference/action-pins.md``); the
``inputs`` are exactly the ``inputs:`` keys of that action's ``action.yml`` at that commit,
read with ``git show <sha>:action.yml`` from a clone of the action's repository. actionlint
does not check ``with:`` keys of SHA-pinned actions, so this table is what a test checks
every template's ``with:`` keys against.

To bump an action: change ``sha`` and ``tag`` together, then re-read ``inputs`` from the
new commit's ``action.yml``; never copy them from the README or a newer tag.
"""

from __future__ import annotations

from dataclasses import dataclass


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
)

PINS: dict[str, Pin] = {p.repository: p for p in sorted(_ALL, key=lambda p: p.repository)}


def pin(repository: str) -> Pin:
    """Return the pin for ``owner/name``; a KeyError names the actions that are pinned."""
    try:
        return PINS[repository]
    except KeyError:
        known = ", ".join(PINS)
        message = f"no pin for action {repository!r}; add it to cdgen.pins (pinned: {known})"
        raise KeyError(message) from None

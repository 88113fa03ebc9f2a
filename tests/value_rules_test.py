"""The rules the schema takes from what runs later: the deploy engine's bounds, git's branch
names, GitHub's repository names, relative build contexts, the one YAML tag read, and keys
that are not text."""

from __future__ import annotations

import pytest
from validate_test import BRANCH, URL, problems, replace

from cdgen.rules import is_valid

PATH = (
    "must be a relative path inside the repository (letters, digits, '.', '_', '/', '-'; no '..')"
)
REPOSITORY = (
    "must be a GitHub repository as owner/name: an owner of at most 39 letters, digits and "
    "single '-' (not first or last), and a name of at most 100 letters, digits, '.', '_' and "
    "'-' that is not '.' or '..' and does not end in .git or .wiki"
)

CASES = [
    pytest.param(
        "branch: main\n",
        "branch: main.lock\n",
        [f"3:9: branch: {BRANCH} (got 'main.lock')"],
        id="branch-lock",
    ),
    pytest.param(
        "branch: main\n",
        "branch: -main\n",
        [f"3:9: branch: {BRANCH} (got '-main')"],
        id="branch-dash",
    ),
    pytest.param(
        "  context: .\n",
        "  context: /etc\n",
        [f"7:12: image.context: {PATH} (got '/etc')"],
        id="context-absolute",
    ),
    pytest.param(
        "  repository: cdgen-dev/cdgen\n",
        "  repository: a/..\n",
        [f"35:15: action.repository: {REPOSITORY} (got 'a/..')"],
        id="action-repository-dotdot",
    ),
    pytest.param(
        "  repository: cdgen-dev/cdgen\n",
        f"  repository: {'a' * 40}/cdgen\n",
        [f"35:15: action.repository: {REPOSITORY} (got '{'a' * 40}/cdgen')"],
        id="action-repository-owner-too-long",
    ),
    pytest.param(
        "      rollout-timeout: 5m\n",
        "      rollout-timeout: 9999h\n",
        [
            "20:24: environments[0].kubernetes.rollout-timeout: must be a duration such as 90s, "
            "5m or 1h, from 1s to 6h (in one unit: at most 21600s, 360m or 6h) (got '9999h')"
        ],
        id="rollout-timeout-beyond-the-engine",
    ),
    pytest.param(
        "      interval: 10s\n",
        "      interval: 9999h\n",
        [
            "24:17: environments[0].smoke.interval: must be a duration such as 90s, 5m or 1h, "
            "from 1s to 1h (in one unit: at most 3600s, 60m or 1h) (got '9999h')"
        ],
        id="interval-beyond-the-engine",
    ),
    pytest.param(
        "    url: https://staging.example.com\n",
        "    url: https://staging.example.com:65536\n",
        [f"14:10: environments[0].url: {URL} (got 'https://staging.example.com:65536')"],
        id="url-port-above-65535",
    ),
    pytest.param(
        "    url: https://staging.example.com\n",
        "    url: https://staging..example.com\n",
        [f"14:10: environments[0].url: {URL} (got 'https://staging..example.com')"],
        id="url-empty-label",
    ),
    pytest.param(
        "    url: https://staging.example.com\n",
        f"    url: https://{'s' * 64}.example.com\n",
        [f"14:10: environments[0].url: {URL} (got 'https://{'s' * 48}...)"],
        id="url-label-over-63",
    ),
    pytest.param(
        "      path: /health\n",
        "      path: /health%zz\n",
        [
            "22:13: environments[0].smoke.path: must be an absolute URL path such as /health "
            "(letters, digits, . _ ~ / - and %XX escapes) (got '/health%zz')"
        ],
        id="smoke-path-broken-escape",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_refused_where_it_would_fail_later(old: str, new: str, expected: list[str]) -> None:
    assert problems(replace(old, new)) == [f"cdgen.yml:{e}" for e in expected]


def test_str_tag_makes_text() -> None:
    text = replace("name: api\n", "name: !!str api\n")
    text = text.replace('node-version: "22"', "node-version: !!str 22")
    assert problems(text) == []
    from ruamel.yaml import YAML

    assert type(YAML().load(text)["name"]) is not str  # ruamel alone keeps a TaggedScalar


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (
            "retries: !!int 5",
            "23:16: tag !!int is not supported (only !!str, which makes a value text)",
        ),
        (
            "retries: !!binary aGk=",
            "23:16: tag !!binary is not supported (only !!str, which makes a value text)",
        ),
        (
            "retries: !custom 5",
            "23:16: tag !custom is not supported (only !!str, which makes a value text)",
        ),
        (
            "retries: !!python/object/apply:os.system [id]",
            "23:16: tag !!python/object/apply:os.system is not supported (only !!str, which makes a value text)",
        ),
        (
            "retries: !<tag:yaml.org,2002:int> 5",
            "23:16: tag !<tag:yaml.org,2002:int> is not supported (only !!str, which makes a value text)",
        ),
        ("retries: !!str [5]", "23:16: tag !!str applies to a single value, not a list"),
    ],
    ids=["int", "binary", "local", "python", "verbatim", "str-on-a-list"],
)
def test_other_tags_are_refused_where_written(new: str, expected: str) -> None:
    assert problems(replace("retries: 5", new)) == [f"cdgen.yml:{expected}"]


ALLOWED_TOP = (
    "allowed: action, branch, environments, image, metrics, name, site, unmanaged, version"
)


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("1", "1"),
        ("null", "null"),
        ("~", "null"),
        ("true", "true"),
        ("1.5", "1.5"),
        (".inf", ".inf"),
        ("2024-01-01", "2024-01-01"),
        ('"1"', "'1'"),
        ('"a\\tb"', "'a\\tb'"),
    ],
)
def test_unknown_keys_are_shown_as_yaml(key: str, shown: str) -> None:
    text = replace("version: 1\n", f"version: 1\n{key}: x\n")
    label = shown.strip("'") if shown == "'1'" else shown
    assert problems(text) == [f"cdgen.yml:2:1: {label}: unknown key {shown} ({ALLOWED_TOP})"]


def test_a_nested_unknown_key_that_is_not_text() -> None:
    text = replace("      namespace: staging\n", "      namespace: staging\n      3: x\n")
    assert problems(text) == [
        "cdgen.yml:18:7: environments[0].kubernetes.3: unknown key 3 (allowed: aks, container, "
        "deployment, eks, gke, kubeconfig-secret, namespace, rollout-timeout)"
    ]


BRANCH_NAMES = [
    *["main", "release/1.2", "feature/a_b-c", "v1.0", "a", "HEADS", "x/HEAD", "lock", "a/-b"],
    *["main.lock", "-main", "HEAD", "a/.b", ".a", "a.lock/b", "a..b", "a/b.", "a/b/", "/a"],
    *["a//b", "a@{1}", "@", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[1]", "a\\b", "a.lock"],
]


def test_branch_names_follow_git_check_ref_format() -> None:
    """Every name the schema takes, git takes as a branch name (git's own rules, run)."""
    import random
    import subprocess

    pieces = ["a", "b1", "c", ".", ".", "/", "-", "_", "lock", ".lock", "HEAD", "..", "@{"]
    rng = random.Random(15)
    names = BRANCH_NAMES + ["".join(rng.choices(pieces, k=rng.randint(1, 5))) for _ in range(400)]
    taken = sorted({name for name in names if is_valid("branch", name)})
    for name in taken:
        git = subprocess.run(
            ["git", "check-ref-format", "--branch", name], capture_output=True, check=False
        )
        assert git.returncode == 0, f"the schema takes {name!r}; git refuses it"
    assert set(BRANCH_NAMES[:9]) <= set(taken)
    assert not set(BRANCH_NAMES[9:]) & set(taken)

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.init_repos import git_init, make_node_service, make_python_service, write

from cdgen.init.answers import answers_from_detection
from cdgen.init.detect import Container, Deployment, DockerfileInfo, GitRemote, detect_repository
from cdgen.init.git_remote import parse_remote_url, read_config_remote
from cdgen.init.manifests import image_score


def where(dockerfile: DockerfileInfo | None) -> tuple[str, str] | None:
    """A Dockerfile's path and build context."""
    return (dockerfile.path, dockerfile.context) if dockerfile else None


def test_node_service_with_manifests(tmp_path: Path) -> None:
    d = detect_repository(make_node_service(tmp_path / "api"))

    assert where(d.dockerfile) == ("Dockerfile", ".")
    assert d.node is not None
    assert d.node.name == "@acme/api"
    assert d.node.test == "npm test"
    assert d.node.e2e == "npm run test:e2e"
    assert d.node.node_version == "22.11.0"  # .nvmrc wins over engines.node
    assert d.python is None
    assert d.deployments == (
        Deployment(
            file="k8s/app.yaml",
            name="api",
            namespace="shop",
            containers=(
                Container("api", "ghcr.io/acme/api:latest", None),
                Container("log-shipper", "fluent/fluent-bit:3", None),
            ),
        ),
    )
    assert d.remote == GitRemote(host="github.com", owner="Acme", name="Api")
    assert d.remote.slug == "Acme/Api"
    assert d.branch == "main"
    assert d.test_command == "npm test"
    assert d.notes == ()


def test_python_service(tmp_path: Path) -> None:
    d = detect_repository(make_python_service(tmp_path / "billing"))

    # A Dockerfile in docker/ is built with the repository as its context.
    assert where(d.dockerfile) == ("docker/Dockerfile", ".")
    assert d.node is None
    assert d.python is not None
    assert (d.python.name, d.python.test) == ("billing", "python -m pytest")
    assert [(x.name, x.namespace, x.container_names) for x in d.deployments] == [
        ("billing", "finance", ("billing",))
    ]
    assert d.remote is not None
    assert d.remote.slug == "acme/Billing_Service"
    assert d.notes == ()


def test_repository_without_dockerfile_explains_what_to_do(tmp_path: Path) -> None:
    git_init(tmp_path, "https://github.com/acme/web")
    write(tmp_path, "package.json", '{"name": "web", "scripts": {"test": "vitest run"}}')

    d = detect_repository(tmp_path)

    assert d.dockerfile is None
    assert d.test_command == "npm test"
    [note] = [n for n in d.notes if "Dockerfile" in n]
    assert note.startswith("No Dockerfile found")
    assert "docker init" in note
    assert "image.dockerfile" in note


def test_empty_directory(tmp_path: Path) -> None:
    d = detect_repository(tmp_path)

    assert (d.dockerfile, d.node, d.python, d.remote, d.branch) == (None, None, None, None, None)
    assert d.deployments == ()
    assert d.test_command is None
    assert len(d.notes) == 3
    assert [n.split(" ", 3)[:3] for n in d.notes] == [
        ["No", "Dockerfile", "found"],
        ["No", "package.json,", "Python,"],
        ["No", "git", "remote"],
    ]


def test_broken_package_json_is_a_note(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", "FROM scratch\n")
    write(tmp_path, "package.json", '{\n  "name": "api",\n  "scripts": {,}\n}\n')

    d = detect_repository(tmp_path)

    assert d.node is None
    assert any(n.startswith("package.json:3:") and "not valid JSON" in n for n in d.notes)


@pytest.mark.parametrize(
    "content",
    [b"[1, 2]", b"\xff\xfe not utf-8", b'{"scripts": ["test"]}'],
    ids=["not-an-object", "not-utf8", "scripts-not-a-mapping"],
)
def test_odd_package_json_never_raises(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "package.json").write_bytes(content)

    d = detect_repository(tmp_path)

    assert d.node is None or d.node.test is None


def test_broken_manifest_is_a_note_and_others_are_still_read(tmp_path: Path) -> None:
    write(tmp_path, "k8s/a-broken.yaml", "kind: Deployment\nmetadata: {name: [\n")
    write(tmp_path, "k8s/b-dup.yaml", "kind: Deployment\nkind: Service\n")
    write(tmp_path, "k8s/c-ok.yaml", "kind: Deployment\nmetadata: {name: web}\n")
    write(
        tmp_path,
        "k8s/chart/templates/d.yaml",
        "kind: Deployment\nmetadata: {name: {{ .Values.name }}}\n",
    )

    d = detect_repository(tmp_path)

    assert [x.name for x in d.deployments] == ["web"]
    assert any(n.startswith("k8s/a-broken.yaml:3:") for n in d.notes)
    assert any(n.startswith("k8s/b-dup.yaml:2:") for n in d.notes)
    assert any("Skipped 1 templated manifest" in n for n in d.notes)


def test_manifests_in_any_folder_and_kind_list(tmp_path: Path) -> None:
    def deployment(name: str) -> dict[str, object]:
        return {"kind": "Deployment", "metadata": {"name": name}}

    folders = {
        "deploy": "d1",
        "kubernetes-manifests": "d2",
        "kustomize/base": "d3",
        ".k8s": "d4",
        "ops/cluster": "d5",
    }
    for folder, name in folders.items():
        write(tmp_path, f"{folder}/app.yml", json.dumps(deployment(name)))
    write(tmp_path, "k8s/list.yaml", json.dumps({"kind": "List", "items": [deployment("d0")]}))
    write(tmp_path, "k8s/overlays/prod/app.yaml", json.dumps(deployment("d0b")))
    write(tmp_path, "k8s/notes.txt", "kind: Deployment")
    # Dependencies, tooling and version control are never manifests of this repository.
    for skipped in ("node_modules/lib", ".git", ".github/workflows", "vendor/x"):
        write(tmp_path, f"{skipped}/app.yaml", json.dumps(deployment("skipped")))

    names = [x.name for x in detect_repository(tmp_path).deployments]

    # In path order: the walk takes no folder name as a hint.
    assert names == ["d4", "d1", "d0", "d0b", "d2", "d3", "d5"]


def test_dockerfile_in_a_service_folder_is_its_context(tmp_path: Path) -> None:
    write(tmp_path, "app/Dockerfile", "FROM node:22\n")
    write(tmp_path, "app/package.json", '{"scripts": {"e2e": "cypress run"}}')
    write(tmp_path, "app/yarn.lock", "")
    write(tmp_path, "app/.node-version", "20\n")

    d = detect_repository(tmp_path)

    assert where(d.dockerfile) == ("app/Dockerfile", "app")
    assert d.node is not None
    assert (d.node.directory, d.node.test, d.node.e2e) == ("app", None, "yarn run e2e")
    assert d.node.node_version == "20"


def test_root_dockerfile_variants_and_preference(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile.prod", "FROM scratch\n")
    write(tmp_path, "docker/Dockerfile", "FROM scratch\n")

    d = detect_repository(tmp_path)

    assert where(d.dockerfile) == ("Dockerfile.prod", ".")
    assert any(
        "Several Dockerfiles found (Dockerfile.prod, docker/Dockerfile)" in n for n in d.notes
    )


@pytest.mark.parametrize(
    ("package", "nvmrc", "expected"),
    [
        ({"engines": {"node": ">=20.5 <23"}}, None, "20"),
        ({"engines": {"node": "^18.0.0"}}, "lts/*", "lts/*"),
        ({}, "lts/iron", None),
        ({"scripts": {"test": 'echo "Error: no test specified" && exit 1'}}, None, None),
    ],
)
def test_node_version_sources(
    tmp_path: Path, package: dict[str, object], nvmrc: str | None, expected: str | None
) -> None:
    write(tmp_path, "package.json", json.dumps(package))
    if nvmrc is not None:
        write(tmp_path, ".nvmrc", nvmrc + "\n")

    d = detect_repository(tmp_path)

    assert d.node is not None
    assert d.node.node_version == expected
    assert d.node.test is None  # npm's placeholder script is no test


def test_python_project_without_tests_asks_for_a_command(tmp_path: Path) -> None:
    write(tmp_path, "requirements.txt", "flask\n")
    write(tmp_path, "pyproject.toml", "[project\nname=")

    d = detect_repository(tmp_path)

    assert d.python is not None
    assert d.python.test is None
    assert any(n.startswith("pyproject.toml: not valid TOML") for n in d.notes)
    assert any("without tests or pytest configuration" in n for n in d.notes)


def test_tox_or_tests_folder_means_pytest(tmp_path: Path) -> None:
    write(tmp_path, "setup.py", "")
    write(tmp_path, "tox.ini", "[tox]\nenvlist = py312\n")

    d = detect_repository(tmp_path)

    assert d.python is not None
    assert d.python.test == "python -m pytest"


def test_default_branch_comes_from_origin_head(tmp_path: Path) -> None:
    git_init(tmp_path, "ssh://git@github.com/acme/api.git", branch="feature/x")
    ref = "refs/remotes/origin/HEAD"
    subprocess.run(
        ["git", "-C", str(tmp_path), "symbolic-ref", ref, "refs/remotes/origin/trunk"], check=True
    )

    assert detect_repository(tmp_path).branch == "trunk"


def test_current_branch_without_origin_head(tmp_path: Path) -> None:
    git_init(tmp_path, branch="develop")

    d = detect_repository(tmp_path)

    assert d.branch == "develop"
    assert d.remote is None


def test_remote_with_credentials_is_redacted_in_notes(tmp_path: Path) -> None:
    git_init(tmp_path, "https://bot:s3cret@gitlab.com/group/sub/project.git")

    d = detect_repository(tmp_path)

    assert d.remote is None
    [note] = [n for n in d.notes if "remote" in n]
    assert "s3cret" not in note
    assert "https://gitlab.com/group/sub/project.git" in note


def test_remote_off_github_says_how_to_run_gh(tmp_path: Path) -> None:
    git_init(tmp_path, "git@github.example.com:team/api.git")

    d = detect_repository(tmp_path)

    assert d.remote == GitRemote(host="github.example.com", owner="team", name="api")
    assert any("GH_HOST=github.example.com" in n for n in d.notes)


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://github.com/acme/api.git", "acme/api"),
        ("https://github.com/acme/api", "acme/api"),
        ("https://github.com/acme/api/", "acme/api"),
        ("https://x-access-token:tok@github.com/acme/api.git", "acme/api"),
        ("git@github.com:acme/api.git", "acme/api"),
        ("github.com:Acme/My.Repo", "Acme/My.Repo"),
        ("ssh://git@github.com/acme/api.git", "acme/api"),
        ("ssh://git@github.com:22/acme/api", "acme/api"),
        ("git://github.com/acme/api.git", "acme/api"),
        ("https://gitlab.com/group/sub/api.git", None),
        ("/srv/git/api.git", None),
        ("file:///srv/git/acme/api.git", None),
        ("https://github.com/-bad/api", None),
        ("https://github.com/acme/..", None),
        ("", None),
    ],
)
def test_parse_remote_url(url: str, slug: str | None) -> None:
    remote = parse_remote_url(url)
    assert (remote.slug if remote else None) == slug


def test_remote_from_git_config_without_git(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        ".git/config",
        '[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://github.com/up/api\n'
        '[remote "origin"]\n\turl = git@github.com:me/api.git\n'
        "\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
    )

    assert read_config_remote(config) == "git@github.com:me/api.git"
    assert read_config_remote(tmp_path / "missing") is None


# Item 20: the Deployment and container running this repository's own image.

SHOP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: storefront, namespace: shop}
spec:
  template:
    spec:
      containers:
        - name: istio-proxy
          image: docker.io/istio/proxyv2:1.22
        - name: web
          image: ghcr.io/Acme/Shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
"""
BACKEND = """\
kind: Deployment
metadata: {name: backend, namespace: shop}
spec: {template: {spec: {containers: [{name: backend, image: "ghcr.io/acme/backend:2"}]}}}
"""


def test_the_deployment_running_the_repository_s_image_is_chosen(tmp_path: Path) -> None:
    git_init(tmp_path, "https://github.com/acme/shop.git")
    write(tmp_path, "deploy/backend.yaml", BACKEND)  # first alphabetically, not this repository's
    write(tmp_path, "kubernetes-manifests/shop.yaml", SHOP)

    answers = answers_from_detection(detect_repository(tmp_path))

    staging = answers.environments[0]
    assert (staging.kubernetes.deployment, staging.kubernetes.container) == ("storefront", "web")
    assert staging.smoke.path == "/ready"  # from the container's HTTP readiness probe
    assert any("Using Deployment 'storefront'; also found: backend." in n for n in answers.notes)


@pytest.mark.parametrize(
    ("image", "score"),
    [
        ("ghcr.io/acme/shop", 2),
        ("GHCR.io/Acme/Shop:1.0", 2),
        ("ghcr.io/acme/shop@sha256:" + "0" * 64, 2),
        ("registry.example.com:5000/acme/shop:3", 1),
        ("acme/shop", 1),
        ("ghcr.io/acme/shop-worker", 0),
        ("ghcr.io/other/shop", 0),
        (None, 0),
    ],
)
def test_image_score(image: str | None, score: int) -> None:
    assert image_score(image, "Acme/Shop") == score


def test_without_a_remote_the_deployment_named_like_the_service_wins(tmp_path: Path) -> None:
    root = tmp_path / "shop"  # the service's name, without a git remote
    write(root, "k8s/a.yaml", BACKEND)
    write(root, "k8s/b.yaml", BACKEND.replace("backend", "shop"))

    answers = answers_from_detection(detect_repository(root))

    assert answers.name == "shop"
    assert answers.environments[0].kubernetes.deployment == "shop"


def test_a_probe_path_cdgen_yml_cannot_use_is_explained(tmp_path: Path) -> None:
    git_init(tmp_path, "https://github.com/acme/shop.git")
    write(tmp_path, "k8s/shop.yaml", SHOP.replace("path: /ready", "path: /ready?full=1"))

    answers = answers_from_detection(detect_repository(tmp_path))

    assert answers.environments[0].smoke.path == "/health"
    assert any("readiness probe path '/ready?full=1'" in n for n in answers.notes)


# Item 17: bounded reading of package.json, pyproject.toml and manifests.


def test_deeply_nested_package_json_and_pyproject_are_notes(tmp_path: Path) -> None:
    write(tmp_path, "package.json", '{"a": ' * 5000 + "1" + "}" * 5000)
    write(tmp_path, "pyproject.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n")

    d = detect_repository(tmp_path)

    assert d.node is None
    assert "package.json: nested deeper than 64 levels; not read." in d.notes
    assert "pyproject.toml: nested deeper than 64 levels; not read." in d.notes


def test_a_toml_document_just_over_the_bound_is_a_note(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "a = " + "[" * 70 + "]" * 70 + "\n")
    assert (
        "pyproject.toml: nested deeper than 64 levels; not read."
        in detect_repository(tmp_path).notes
    )


def test_manifests_over_the_alias_or_nesting_bound_are_skipped(tmp_path: Path) -> None:
    laughs = ["kind: Deployment", "metadata: {name: lol}", "a: &a [x, x, x, x, x, x, x, x, x, x]"]
    laughs += [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(12)
    ]
    write(tmp_path, "k8s/laughs.yaml", "\n".join(laughs) + "\n")
    write(tmp_path, "k8s/deep.yaml", "kind: Deployment\nspec: " + "[" * 100 + "]" * 100 + "\n")
    write(tmp_path, "k8s/ok.yaml", BACKEND)

    d = detect_repository(tmp_path)

    assert [x.name for x in d.deployments] == ["backend"]
    assert "k8s/laughs.yaml: more than 100 aliases; skipped." in d.notes
    assert "k8s/deep.yaml: nested deeper than 64 levels; skipped." in d.notes


def test_fifos_and_huge_files_are_skipped_without_being_read(tmp_path: Path) -> None:
    """In a child process with a time limit: reading a FIFO would wait for a writer forever."""
    write(tmp_path, "k8s/ok.yaml", BACKEND)
    for name in ("k8s/pipe.yaml", "package.json", ".nvmrc"):
        os.mkfifo(tmp_path / name)
    with (tmp_path / "k8s/huge.yaml").open("w") as huge:
        huge.write("kind: Deployment\n" + "#" * 2_000_000 + "\n")
    code = (
        "import sys; from pathlib import Path; from cdgen.init.detect import detect_repository;"
        "d = detect_repository(Path(sys.argv[1]));"
        "print([x.name for x in d.deployments]); print(*d.notes, sep='\\n')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "['backend']"
    assert "k8s/pipe.yaml: not a regular file; skipped." in lines
    assert "k8s/huge.yaml: larger than 1000000 bytes; skipped." in lines

"""The engine runs from the action's checkout with the runner's bare python3."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.sandbox import image

from .conftest import NAMESPACE, Sandbox, parse_outputs

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "generator" / "cdgen" / "deploy"
# Every module of the engine, the static-site engine in deploy/site/ too.
MODULES = sorted([*ENGINE.rglob("*.py"), ROOT / "generator" / "cdgen" / "__init__.py"])
# Imports from typing that Python 3.9 has (the runner's python3 may be that old).
NEWER_KEYWORDS = {"strict", "slots", "kw_only"}  # zip(strict=), dataclass(slots=, kw_only=)
NEWER_NAMES = {"UTC", "ExceptionGroup", "TaskGroup", "aclosing", "pairwise", "TypeAlias"}
TYPING_39 = {"Any", "Callable", "Iterator", "Mapping", "TextIO", "Protocol", "Optional", "Union"}


@pytest.mark.parametrize("module", MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_module_is_python39_and_stdlib_only(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"), feature_version=(3, 9))
    stdlib = sys.stdlib_module_names
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
            if node.module == "typing":
                assert {alias.name for alias in node.names} <= TYPING_39
            if node.module == "cdgen":
                assert [alias.name for alias in node.names] == ["__version__"]
        else:
            continue
        assert roots <= stdlib | {"__future__", "cdgen"}, f"{module.name} imports {roots}"
    if module.name != "__init__.py":
        assert "from __future__ import annotations" in module.read_text(encoding="utf-8")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            keywords = {keyword.arg for keyword in node.keywords}
            assert not keywords & NEWER_KEYWORDS, f"{module.name}: {keywords & NEWER_KEYWORDS}"
        if isinstance(node, (ast.Attribute, ast.Name)):
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            assert name not in NEWER_NAMES, f"{module.name} uses {name}, newer than Python 3.9"


def test_engine_runs_as_a_module_without_site_packages(sandbox: Sandbox, tmp_path: Path) -> None:
    from support.smoke_server import start_server

    server = start_server(str(sandbox.state_path))
    output_file = tmp_path / "out"
    output_file.write_text("", encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "generator"),
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(output_file),
        "CDGEN_IMAGE": image("v2"),
        "CDGEN_NAMESPACE": NAMESPACE,
        "CDGEN_DEPLOYMENT": "api",
        "CDGEN_SMOKE_URL": f"{server.url}/{NAMESPACE}/api",
    }
    try:
        # -S: no site-packages at all, so any third-party import would fail here.
        done = subprocess.run(
            ["/usr/bin/python3", "-S", "-B", "-m", "cdgen.deploy"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stdout + done.stderr
    assert parse_outputs(output_file.read_text(encoding="utf-8"))["result"] == "deployed"
    assert "::group::Rollout: wait up to 300s for the rollout" in done.stdout


def test_help_lists_every_option_with_its_variable() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cdgen.deploy", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    for flag in ("--mode", "--image", "--smoke-retries", "--kubeconfig-file", "CDGEN_SMOKE_URL"):
        assert flag in done.stdout
    assert "--kubeconfig " not in done.stdout  # content is never an argument
    assert "130 SIGINT, 143 SIGTERM" in " ".join(done.stdout.split())  # exit codes documented


def test_usage_error_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cdgen.deploy", "--no-such-option"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2


def test_the_site_engine_is_among_the_modules_checked() -> None:
    names = {str(path.relative_to(ENGINE)) for path in MODULES if ENGINE in path.parents}
    assert names >= {"site/engine.py", "site/vercel.py", "site/cloudflare.py"}

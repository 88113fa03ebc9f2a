"""Install test (DESIGN §8): build the wheel, install it in a fresh venv, run cdgen outside
the repository, and get exactly what the in-repo renderer produces."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.generated import GOLDENS, ROOT, render_descriptor

from cdgen import __version__
from cdgen.resources import read_schema_text

pytestmark = pytest.mark.slow

SCENARIO = "article"  # the fullest golden: smoke, e2e, two environments, reviewers


@dataclass(frozen=True)
class Installed:
    source: Path  # the snapshot of the checkout the wheel was built from
    wheel: Path
    venv: Path
    env: dict[str, str]
    build_log: str

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def snapshot_checkout(dest: Path) -> Path:
    """Copy the tracked and unignored files: a stale build/ or egg-info in the checkout would
    leak into the wheel, and building in place would write into the shared checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src, out = ROOT / rel, dest / rel
        if not src.is_symlink() and not src.exists():
            continue  # deleted in the working tree
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            out.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, out)
    return dest


def clean_env(venv: Path) -> dict[str, str]:
    """The environment of a user's shell: nothing pointing Python at the checkout."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT))]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *path])
    env["PYTHONNOUSERSITE"] = "1"
    return env


def run_ok(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("install")
    assert not tmp.resolve().is_relative_to(ROOT), "the install test must run outside the checkout"
    source = snapshot_checkout(tmp / "source")
    venv = tmp / "venv"
    env = clean_env(venv)
    dist = tmp / "dist"
    log = run_ok(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(dist), "."],
        source,
        env,
    )
    (wheel,) = dist.glob("cdgen-*.whl")
    run_ok([sys.executable, "-m", "venv", str(venv)], tmp, env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    run_ok([*pip, "--quiet", str(wheel)], tmp, env)
    return Installed(source, wheel, venv, env, log)


def test_wheel_contains_the_package_data(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    templates = {f"cdgen/templates/{p.name}" for p in (installed.source / "templates").iterdir()}
    assert {n for n in names if n.startswith("cdgen/templates/")} == templates
    modules = {
        f"cdgen/{p.relative_to(installed.source / 'generator' / 'cdgen').as_posix()}"
        for p in (installed.source / "generator" / "cdgen").rglob("*.py")
    }
    assert {n for n in names if n.endswith(".py")} == modules
    assert any(m.startswith("cdgen/deploy/") for m in modules)
    assert {"cdgen/schemas/cdgen.schema.json", "cdgen/py.typed"} <= names
    with zipfile.ZipFile(installed.wheel) as wheel:
        packaged = wheel.read("cdgen/schemas/cdgen.schema.json")
    assert packaged == (installed.source / "schemas" / "cdgen.schema.json").read_bytes()
    # templates/ and schemas/ are data, not packages (pyproject: include-package-data = false).
    assert "is absent from the `packages` configuration" not in installed.build_log


def test_installed_cdgen_is_imported_from_the_venv(installed: Installed, tmp_path: Path) -> None:
    code = "import cdgen, cdgen.resources as r; print(cdgen.__file__); print(r.template_names())"
    done = installed.run("python", "-c", code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    where, names = done.stdout.splitlines()
    assert Path(where).resolve().is_relative_to(installed.venv.resolve()), where
    assert not Path(where).resolve().is_relative_to(ROOT), where
    assert names == repr(sorted(p.name for p in (installed.source / "templates").glob("*.j2")))


def test_installed_cli_reports_version_and_schema(installed: Installed, tmp_path: Path) -> None:
    version = installed.run("cdgen", "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith(f"cdgen {__version__} (commit "), version.stdout
    schema = installed.run("cdgen", "schema", cwd=tmp_path)
    assert schema.returncode == 0, schema.stderr
    assert schema.stdout == read_schema_text()


def test_installed_generate_matches_the_repository(installed: Installed, tmp_path: Path) -> None:
    descriptor: str = YAML(typ="safe").load(GOLDENS / f"{SCENARIO}.yml")["descriptor"]
    (tmp_path / "expected").mkdir()
    expected = render_descriptor(tmp_path / "expected", descriptor)
    work = tmp_path / "work"
    work.mkdir()
    (work / "cdgen.yml").write_text(descriptor, encoding="utf-8")

    done = installed.run("cdgen", "generate", cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    written = {
        p.relative_to(work).as_posix(): p.read_bytes()
        for p in sorted(work.rglob("*"))
        if p.is_file() and p != work / "cdgen.yml"
    }
    assert written == {rel: text.encode() for rel, text in expected.items()}

    check = installed.run("cdgen", "check", cwd=work)
    assert check.returncode == 0, check.stdout + check.stderr

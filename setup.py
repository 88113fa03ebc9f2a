"""Build hooks: stamp the package with the commit it was built from.

Everything else about the build is in pyproject.toml. The stamp lets `cdgen generate` pin the
composite action to the very commit this cdgen came from (cdgen.stamp). An sdist carries the
stamp of the checkout it was made in, so a wheel built from it later (with no git metadata)
still knows its commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "generator"))

from cdgen.stamp import STAMP_FILE, Stamp, read_git_stamp, to_json  # noqa: E402

SOURCE_STAMP = ROOT / "generator" / "cdgen" / STAMP_FILE


def current_stamp() -> Stamp:
    """The checkout's own git metadata; in an unpacked sdist, the stamp it carries."""
    found = read_git_stamp(ROOT)
    if found is not None:
        return found
    if SOURCE_STAMP.is_file():
        from cdgen.stamp import from_json

        return from_json(SOURCE_STAMP.read_bytes())
    return Stamp(None)


def check_package_data() -> None:
    """templates/ and schemas/ reach the package through symbolic links: a checkout made
    without them (git's core.symlinks=false, the default on Windows) would build a wheel
    with no templates. Refuse to."""
    for name, pattern in (("templates", "*.j2"), ("schemas", "*.json")):
        linked = ROOT / "generator" / "cdgen" / name
        if not linked.is_dir() or not any(linked.glob(pattern)):
            raise SystemExit(
                f"generator/cdgen/{name} is not the link to {name}/ it should be: this "
                "checkout lost its symbolic links (git core.symlinks=false, as on Windows). "
                "Build from a checkout with symbolic links (WSL, Linux or macOS)."
            )


class StampedBuildPy(build_py):
    def run(self) -> None:
        check_package_data()
        super().run()
        if self.editable_mode:  # an editable install reads its checkout's git at run time
            return
        target = Path(self.build_lib) / "cdgen" / STAMP_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(to_json(current_stamp()), encoding="utf-8")


class StampedSdist(sdist):
    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        target = Path(base_dir) / "generator" / "cdgen" / STAMP_FILE
        target.unlink(missing_ok=True)  # a hard link to the source file must not be written
        target.write_text(to_json(current_stamp()), encoding="utf-8")


setup(cmdclass={"build_py": StampedBuildPy, "sdist": StampedSdist})

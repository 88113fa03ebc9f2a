"""Running one `run:` step of a generated workflow with bash, as a GitHub runner would: the
step's `env:` (with each `${{ … }}` replaced by a value the test gives), GitHub's default
shell (`bash --noprofile --norc -eo pipefail`), and the GITHUB_OUTPUT / GITHUB_STEP_SUMMARY
files read back. The commands the script calls (gh, docker) are fakes put first on PATH."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass(frozen=True)
class StepRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str

    @property
    def errors(self) -> list[str]:
        """The `::error …::message` annotations the step printed, as messages."""
        return [
            line.split("::", 2)[2]
            for line in self.stdout.splitlines()
            if line.startswith("::error")
        ]


def find_step(workflow: str, job: str, step_id: str) -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(workflow)
    for step in loaded["jobs"][job]["steps"]:
        if step.get("id") == step_id:
            return step  # type: ignore[no-any-return]
    raise KeyError(f"no step {step_id!r} in job {job!r}")


def resolve_env(step: dict[str, Any], expressions: dict[str, str]) -> dict[str, str]:
    """The step's env with every expression replaced; an expression the test did not give
    fails loudly rather than run with an empty value."""

    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression not in expressions:
            raise KeyError(f"the test gives no value for ${{{{ {expression} }}}}")
        return expressions[expression]

    return {key: EXPRESSION.sub(value, str(raw)) for key, raw in step.get("env", {}).items()}


def run_step(
    step: dict[str, Any],
    expressions: dict[str, str],
    work: Path,
    path_dirs: list[Path],
    extra_env: dict[str, str] | None = None,
) -> StepRun:
    work.mkdir(parents=True, exist_ok=True)
    output, summary = work / "output", work / "summary"
    output.write_text("", encoding="utf-8")
    summary.write_text("", encoding="utf-8")
    script = work / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    env = {
        "PATH": os.pathsep.join([*map(str, path_dirs), "/usr/bin", "/bin"]),
        "HOME": str(work),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_REPOSITORY": "acme/api",
        "GITHUB_SERVER_URL": "https://github.com",
        **(extra_env or {}),
        **resolve_env(step, expressions),
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return StepRun(
        done.returncode,
        done.stdout,
        done.stderr,
        _read_outputs(output.read_text(encoding="utf-8")),
        summary.read_text(encoding="utf-8"),
    )


def _read_outputs(text: str) -> dict[str, str]:
    outputs = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            outputs[name] = value
    return outputs

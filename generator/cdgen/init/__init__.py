"""`cdgen init`: detect a repository, settle the answers, write cdgen.yml and the workflows.

The flow is `start(directory)` → the CLI asks `answers.questions(detection)` (or takes
every default) → `finish(detection, answers)`, which writes everything all or nothing and
returns what to show: the report, notes, the `gh` commands and a line-endings hint.

detect (what the repository holds) uses git_remote, manifests and reading; answers turns a
detection into settings; scaffold writes them as a commented cdgen.yml; github_setup prints
the one-time GitHub settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cdgen.init.answers import Question
    from cdgen.init.detect import Detection
    from cdgen.sync import Report


@dataclass(frozen=True)
class Outcome:
    report: Report  # what was written
    notes: tuple[str, ...]  # detection notes, answers that were not used, warnings
    setup: list[str]  # the one-time GitHub settings, as shell lines
    first_deploy: list[str]  # what each cluster needs before the first deploy
    cloud: list[str]  # the registry's and clusters' identities and pull access, if any
    line_endings: str | None  # how to keep LF endings in every clone, when not yet set


def start(directory: Path, *, force: bool) -> Detection:
    """Check that init may write in `directory`, then detect what it holds (no writes)."""
    from cdgen.init.detect import detect_repository
    from cdgen.sync import check_init_target

    check_init_target(directory, force=force)
    return detect_repository(directory)


def questions_for(detection: Detection) -> list[Question]:
    """What to ask: about an image, or about the static site detection found."""
    if detection.site is not None:
        from cdgen.init.site_answers import site_questions

        return site_questions(detection)
    from cdgen.init.answers import questions

    return questions(detection)


def finish(detection: Detection, answered: Mapping[str, str], *, force: bool) -> Outcome:
    """Write cdgen.yml from the detection and the answers, and generate the workflows."""
    if detection.site is not None:
        return _finish_site(detection, answered, force=force)
    from cdgen.init.answers import answers_from_detection
    from cdgen.init.github_setup import first_deploy_steps, setup_commands
    from cdgen.init.scaffold import render_descriptor
    from cdgen.sync import initialize

    answers = answers_from_detection(detection, answered)
    descriptor = render_descriptor(answers)
    report = initialize(detection.root, descriptor, force=force)
    return Outcome(
        report=report,
        notes=(*answers.notes, *report.notes),
        setup=setup_commands(answers),
        first_deploy=first_deploy_steps(answers),
        cloud=cloud_access(descriptor, answers.github_repository),
        line_endings=line_endings_hint(detection.root),
    )


def _finish_site(detection: Detection, answered: Mapping[str, str], *, force: bool) -> Outcome:
    from cdgen.init.site_answers import site_answers, site_first_deploy, site_setup_commands
    from cdgen.init.site_scaffold import render_site_descriptor
    from cdgen.sync import initialize

    answers = site_answers(detection, answered)
    report = initialize(detection.root, render_site_descriptor(answers), force=force)
    return Outcome(
        report=report,
        notes=(*answers.notes, *report.notes),
        setup=site_setup_commands(answers),
        first_deploy=site_first_deploy(answers),
        cloud=[],  # a site's provider is reached with its token: no cloud identity to set up
        line_endings=line_endings_hint(detection.root),
    )


def cloud_access(descriptor: str, repository: str | None) -> list[str]:
    """The cloud commands for what the written (and so valid) descriptor uses."""
    from cdgen.descriptor import parse_descriptor
    from cdgen.init.cloud_setup import cloud_commands
    from cdgen.model import build_pipeline
    from cdgen.stamp import build_stamp

    data = parse_descriptor(descriptor.encode(), "cdgen.yml").data
    return cloud_commands(build_pipeline(data, build_stamp()), repository)


# .gitattributes patterns that make git keep these files with LF endings on every platform.
_COVERS_DESCRIPTOR = frozenset({"*", "*.yml", "cdgen.yml", "/cdgen.yml"})
_COVERS_GITHUB = frozenset({"*", "*.yml", ".github/**", "/.github/**"})


def line_endings_hint(root: Path) -> str | None:
    """A .gitattributes suggestion, unless LF endings are already asked for.

    cdgen reads CRLF checkouts correctly, but files that flip between CRLF and LF across
    clones make noisy diffs; git normalizes them once told to.
    """
    from cdgen.init.reading import read_text

    text = read_text(root / ".gitattributes", [], ".gitattributes") or ""
    patterns = {
        line.split()[0] for line in text.splitlines() if line.strip() and "eol=lf" in line.split()
    }
    if patterns & _COVERS_DESCRIPTOR and patterns & _COVERS_GITHUB:
        return None
    return (
        "Keep cdgen's files with LF line endings in every clone (Windows included): add to "
        ".gitattributes\n  cdgen.yml text eol=lf\n  .github/** text eol=lf"
    )

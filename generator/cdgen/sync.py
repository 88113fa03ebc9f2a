"""The generate, check and init flows: bringing an output directory in line with cdgen.yml.

Each flow returns a Report of what it found or changed, or raises one of the error family:
DescriptorError (the descriptor is unusable), ConflictError (a file holds someone's work;
nothing was written), DriftError (`check`: files differ), CdgenError (a path cannot be
read or written; nothing was written). Nothing here prints.

When nothing changed, `generate` and `check` answer from the headers alone: that path
imports no YAML, template or schema library.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cdgen.errors import CdgenError, ConflictError, DriftError, UsageError
from cdgen.generate import Target, is_up_to_date, read_config, render_target
from cdgen.workspace import Tree, display_path, plan_changes, scan
from cdgen.write import commit_changes, remove_leftovers

CONFIG_NAME = "cdgen.yml"


@dataclass(frozen=True)
class Report:
    """What a flow found and did under `root`."""

    root: Path
    source: str  # the descriptor, as the headers name it
    files: int  # how many files cdgen generates there
    changes: tuple[tuple[str, str], ...] = ()  # (POSIX path, created | updated | removed)
    notes: tuple[str, ...] = ()  # warnings for the user (e.g. an unpinned action)
    cleaned: tuple[str, ...] = ()  # temporary files of an interrupted run, removed

    @property
    def up_to_date(self) -> bool:
        return not self.changes


def generate(target: Target, *, force: bool = False) -> Report:
    """Write what changed; refuses (ConflictError) to replace or delete work without force."""
    descriptor = read_config(target.config)
    tree = scan(target.root)
    cleaned = tuple(remove_leftovers(target.root, tree.leftovers))
    if not force and is_up_to_date(target, descriptor, tree.generated):
        return Report(target.root, target.source, len(tree.generated), cleaned=cleaned)
    rendered = render_target(target, descriptor, tree.generated)
    plan = plan_changes(tree, rendered.files, rendered.unmanaged)
    if plan.conflicts and not force:
        advice = (
            f"nothing was written; move your changes into {target.source}, or rerun with --force"
        )
        raise ConflictError(target.root, plan.conflicts, advice)
    commit_changes(target.root, plan.writes, plan.deletes)
    return Report(
        target.root,
        target.source,
        len(rendered.files),
        tuple(plan.changes()),
        rendered.notes,
        cleaned,
    )


def check(target: Target) -> Report:
    """Report drift (DriftError, with a diff per file) without writing anything."""
    descriptor = read_config(target.config)
    tree = scan(target.root)
    if is_up_to_date(target, descriptor, tree.generated):
        return Report(target.root, target.source, len(tree.generated))
    rendered = render_target(target, descriptor, tree.generated)
    plan = plan_changes(tree, rendered.files, rendered.unmanaged)
    if plan.findings:
        advice = "generated files differ; run `cdgen generate` (with --force for edited files)"
        raise DriftError(target.root, plan.findings, advice)
    return Report(target.root, target.source, len(rendered.files), notes=rendered.notes)


def check_init_target(directory: Path, *, force: bool) -> None:
    """`init` may write here: a folder, holding no cdgen.yml unless forced."""
    if not directory.is_dir():
        raise UsageError(f"{display_path(directory)} is not a directory")
    config = directory / CONFIG_NAME
    if os.path.lexists(config) and not force:
        raise CdgenError(f"{display_path(config)} already exists; edit it, or rerun with --force")


def initialize(directory: Path, descriptor: str, *, force: bool) -> Report:
    """Write a new cdgen.yml and everything generated from it, all or nothing.

    Every path is checked before anything is written; with `force`, an existing cdgen.yml
    and files in the way are replaced.
    """
    check_init_target(directory, force=force)
    target = Target(directory / CONFIG_NAME, directory)
    tree: Tree = scan(directory)
    rendered = render_target(target, descriptor.encode(), tree.generated)
    plan = plan_changes(tree, rendered.files, rendered.unmanaged)
    plan.add(CONFIG_NAME, descriptor)
    if plan.conflicts and not force:
        advice = "nothing was written; move those files away or rerun with --force"
        raise ConflictError(directory, plan.conflicts, advice)
    commit_changes(directory, plan.writes, plan.deletes)
    cleaned = tuple(remove_leftovers(directory, tree.leftovers))
    return Report(
        directory,
        target.source,
        len(rendered.files),
        tuple(plan.changes()),
        rendered.notes,
        cleaned,
    )

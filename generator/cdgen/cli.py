"""The command line: parses switches, calls the core, prints, maps errors to exit codes.

Exit codes: 0 ok; 1 invalid descriptor, drift or failed deploy; 2 usage; 3 unexpected error;
130 interrupted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cdgen import __version__
from cdgen.errors import CdgenError, DescriptorError, UsageError

if TYPE_CHECKING:
    from cdgen.answers import Question

app = typer.Typer(
    name="cdgen",
    help="Generate a hardened continuous-deployment pipeline for GitHub Actions from cdgen.yml.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="The descriptor to read.", show_default=True),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Directory the files are generated under. Default: the descriptor's directory.",
        show_default=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cdgen {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_version),
    ] = False,
) -> None:
    """Generate a hardened continuous-deployment pipeline for GitHub Actions from cdgen.yml."""


@app.command()
def validate(config: ConfigOption = Path("cdgen.yml")) -> int:
    """Check the descriptor and report every problem with its line and column."""
    from cdgen.descriptor import read_descriptor
    from cdgen.validate import validate_document

    doc = read_descriptor(config, _shown(config))
    validate_document(doc)
    typer.echo(f"{doc.path}: valid")
    return 0


@app.command()
def generate(
    config: ConfigOption = Path("cdgen.yml"),
    output: OutputOption = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only report drift, like `cdgen check`.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite hand-edited files and files cdgen did not write."),
    ] = False,
) -> int:
    """Write the workflows; refuses to overwrite hand-edited files without --force."""
    if check:
        return _check(config, output)
    from cdgen.generate import Target, is_up_to_date

    target = Target(config, output or config.parent)
    if not force and is_up_to_date(target):
        typer.echo(f"cdgen: generated files are up to date with {target.source}")
        return 0
    from cdgen.generate import render_target
    from cdgen.workspace import apply_plan, iter_changed, plan_changes

    rendered = render_target(target)
    plan = plan_changes(target.root, rendered.files, rendered.unmanaged)
    if plan.conflicts and not force:
        for finding in plan.conflicts:
            _error(f"{_shown(target.root / finding.path)}: {finding.message}")
        _error("refusing to overwrite; move your changes into cdgen.yml or rerun with --force")
        return 1
    apply_plan(plan)
    for note in rendered.notes:
        _warn(note)
    for rel, what in iter_changed(plan):
        typer.echo(f"{what} {_shown(target.root / rel)}")
    typer.echo(f"cdgen: {len(rendered.files)} files generated from {target.source}")
    return 0


@app.command()
def check(config: ConfigOption = Path("cdgen.yml"), output: OutputOption = None) -> int:
    """Fail (exit 1) with a diff when generated files are stale, edited, missing or orphaned."""
    return _check(config, output)


def _check(config: Path, output: Path | None) -> int:
    from cdgen.generate import Target, is_up_to_date

    target = Target(config, output or config.parent)
    if is_up_to_date(target):
        typer.echo(f"cdgen: generated files are up to date with {target.source}")
        return 0
    from cdgen.generate import render_target
    from cdgen.workspace import plan_changes

    rendered = render_target(target)
    plan = plan_changes(target.root, rendered.files, rendered.unmanaged)
    if not plan.findings:
        typer.echo(f"cdgen: generated files are up to date with {target.source}")
        return 0
    annotate = os.environ.get("GITHUB_ACTIONS") == "true"
    for finding in plan.findings:
        shown = _shown(target.root / finding.path)
        typer.echo(f"{shown}: {finding.message}", err=True)
        if annotate:
            typer.echo(f"::error file={shown},title=cdgen check::{finding.message}")
    for finding in plan.findings:
        typer.echo(finding.diff, nl=False)
    _error("generated files differ; run `cdgen generate` (with --force for edited files)")
    return 1


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="Repository to set up.", show_default=True)
    ] = Path("."),
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Take every default without asking.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing cdgen.yml.")] = False,
) -> int:
    """Detect the repository, write a commented cdgen.yml and generate the workflows."""
    from cdgen.answers import answers_from_detection, questions
    from cdgen.detect import detect_repository
    from cdgen.generate import Target, render_target
    from cdgen.github_setup import setup_commands
    from cdgen.scaffold import render_descriptor
    from cdgen.workspace import apply_plan, iter_changed, plan_changes

    config = directory / "cdgen.yml"
    if config.exists() and not force:
        raise CdgenError(f"{_shown(config)} already exists; edit it, or rerun with --force")
    if not directory.is_dir():
        raise UsageError(f"{_shown(directory)} is not a directory")
    detection = detect_repository(directory)
    answers = answers_from_detection(detection, {} if yes else _ask(questions(detection)))
    text = render_descriptor(answers)
    target = Target(config, directory)
    rendered = render_target(target, text.encode())
    plan = plan_changes(directory, rendered.files, rendered.unmanaged)
    if plan.conflicts and not force:
        for finding in plan.conflicts:
            _error(f"{_shown(directory / finding.path)}: {finding.message}")
        _error("nothing written; move those files away or rerun with --force")
        return 1
    plan.writes["cdgen.yml"] = text
    apply_plan(plan)
    for note in (*answers.notes, *rendered.notes):
        _warn(note)
    typer.echo(f"created {_shown(config)}")
    for rel, what in iter_changed(plan):
        if rel != "cdgen.yml":
            typer.echo(f"{what} {_shown(directory / rel)}")
    typer.echo("\nOne-time GitHub settings (run from the repository, with the gh CLI):\n")
    typer.echo("\n".join(setup_commands(answers)))
    return 0


def _ask(asked: list[Question]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for question in asked:
        while True:
            answer = str(typer.prompt(question.prompt, default=question.default, show_default=True))
            problem = question.check(answer)
            if problem is None:
                break
            typer.echo(f"  {problem}", err=True)
        answers[question.key] = answer
    return answers


@app.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
def deploy(ctx: typer.Context) -> int:
    """Deploy an image to Kubernetes, smoke-test it, roll back on failure (see --help)."""
    from cdgen.deploy.cli import main as deploy_main

    try:
        return deploy_main(list(ctx.args))
    except SystemExit as done:  # argparse exits after --help and usage errors
        return done.code if isinstance(done.code, int) else 0


@app.command()
def metrics(
    *,
    repo: Annotated[
        str | None,
        typer.Option("--repo", help="OWNER/NAME. Default: the git remote's.", show_default=False),
    ] = None,
    environment: Annotated[
        str | None,
        typer.Option(
            "--environment",
            help="Default: cdgen.yml's last environment, else production.",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="First day, YYYY-MM-DD. Default: 30 days before --until."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Day after the last, YYYY-MM-DD (UTC). Default: today."),
    ] = None,
    form: Annotated[str, typer.Option("--format", help="table, json or markdown.")] = "table",
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help="Default: https://api.github.com; https://HOST/api/v3 for Enterprise Server.",
            show_default=False,
        ),
    ] = None,
) -> int:
    """DORA's four keys from the repository's GitHub deployment records."""
    from cdgen.metrics import Options, metrics_report

    options = Options(repo, environment, since, until, form, api_url)
    typer.echo(metrics_report(options, Path.cwd()), nl=False)
    return 0


@app.command()
def schema() -> int:
    """Print the descriptor's JSON schema."""
    from cdgen.resources import read_schema_text

    typer.echo(read_schema_text(), nl=False)
    return 0


def _shown(path: Path) -> str:
    from cdgen.generate import display_path

    return display_path(path)


def _error(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        typer.echo(f"::warning title=cdgen::{message}")


def _report(error: CdgenError) -> None:
    if isinstance(error, DescriptorError):
        for v in error.violations:
            typer.echo(str(v), err=True)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            for v in error.violations:
                typer.echo(f"::error file={v.path},line={v.line},col={v.column}::{v.message}")
        count = len(error.violations)
        typer.echo(f"cdgen: {count} problem{'s' if count != 1 else ''} found", err=True)
        return
    _error(str(error))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    try:
        result = app(args=argv, prog_name="cdgen", standalone_mode=False)
    except typer.Abort:
        typer.echo("cdgen: interrupted", err=True)
        return 130
    except UsageError as error:
        _error(str(error))
        return 2
    except CdgenError as error:
        _report(error)
        return 1
    except Exception as error:  # the last line of defence maps to exit 3
        code, show = getattr(error, "exit_code", None), getattr(error, "show", None)
        if isinstance(code, int) and callable(show):  # click's usage and parameter errors
            show()
            return code
        if os.environ.get("CDGEN_DEBUG"):
            import traceback

            traceback.print_exc()
        typer.echo(f"cdgen: unexpected error: {type(error).__name__}: {error}", err=True)
        typer.echo("Please report this with the command you ran.", err=True)
        return 3
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())

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
from cdgen.errors import CdgenError, DescriptorError, DriftError, FindingsError, UsageError

if TYPE_CHECKING:
    from cdgen.init.answers import Question
    from cdgen.sync import Report

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
        from cdgen.stamp import build_stamp

        typer.echo(f"cdgen {__version__} ({build_stamp().describe()})")
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
        typer.Option(
            "--force",
            help="Replace hand-edited files and files cdgen did not write; delete edited orphans.",
        ),
    ] = False,
) -> int:
    """Write the workflows; refuses to overwrite hand-edited files without --force."""
    from cdgen import sync
    from cdgen.generate import Target

    target = Target(config, output or config.parent)
    report = sync.check(target) if check else sync.generate(target, force=force)
    _print_report(report)
    return 0


@app.command()
def check(config: ConfigOption = Path("cdgen.yml"), output: OutputOption = None) -> int:
    """Fail (exit 1) with a diff when generated files are stale, edited, missing or orphaned."""
    from cdgen import sync
    from cdgen.generate import Target

    _print_report(sync.check(Target(config, output or config.parent)))
    return 0


def _print_report(report: Report) -> None:
    for rel in report.cleaned:
        typer.echo(f"removed {_shown(report.root / rel)} (left by an interrupted run)")
    for note in report.notes:
        _warn(note)
    if report.up_to_date:
        typer.echo(f"cdgen: generated files are up to date with {report.source}")
        return
    for rel, what in report.changes:
        typer.echo(f"{what} {_shown(report.root / rel)}")
    typer.echo(f"cdgen: {report.files} files generated from {report.source}")


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="Repository to set up.", show_default=True)
    ] = Path("."),
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Take every default without asking.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace an existing cdgen.yml and files in the way."),
    ] = False,
) -> int:
    """Detect the repository, write a commented cdgen.yml and generate the workflows."""
    from cdgen.init import finish, questions_for, start

    detection = start(directory, force=force)
    outcome = finish(detection, {} if yes else _ask(questions_for(detection)), force=force)
    for note in outcome.notes:
        _warn(note)
    for rel, what in outcome.report.changes:
        typer.echo(f"{what} {_shown(directory / rel)}")
    if outcome.line_endings:
        typer.echo(f"\n{outcome.line_endings}")
    typer.echo("\nOne-time GitHub settings (run from the repository, with the gh CLI):\n")
    typer.echo("\n".join(outcome.setup))
    typer.echo("\nBefore the first deploy (README: Before the first deploy):\n")
    typer.echo("\n".join(outcome.first_deploy))
    if outcome.cloud:
        typer.echo(
            "\nRegistry and cluster access (README: Registries and clusters in the cloud):\n"
        )
        typer.echo("\n".join(outcome.cloud))
    return 0


def _ask(asked: list[Question]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for question in asked:
        if question.when and answers.get(question.when[0], question.when[1]) != question.when[1]:
            continue  # it belongs to another answer (a site provider's own setting)
        while True:
            answer = _prompt(question)
            problem = question.check(answer)
            if problem is None:
                break
            typer.echo(f"  {problem}", err=True)
        answers[question.key] = answer
    return answers


def _prompt(question: Question) -> str:
    try:
        return str(typer.prompt(question.prompt, default=question.default, show_default=True))
    except typer.Abort as abort:
        if isinstance(abort.__context__, EOFError):  # click turns both EOF and Ctrl-C into Abort
            raise UsageError(
                f"standard input ended before {question.prompt!r} was answered; nothing was "
                "written (run `cdgen init --yes` to take every default)"
            ) from None
        raise


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
def doctor(
    config: ConfigOption = Path("cdgen.yml"),
    environment: Annotated[
        str | None, typer.Option("--environment", "-e", help="Check only this environment.")
    ] = None,
    kubeconfig: Annotated[
        str | None,
        typer.Option(
            "--kubeconfig", help="Kubeconfig file. Default: KUBECONFIG or ~/.kube/config."
        ),
    ] = None,
) -> int:
    """Check each environment's cluster before the first deploy; print a fix for each problem."""
    from cdgen.doctor import doctor as run_doctor
    from cdgen.doctor import format_report

    lines, failed = format_report(run_doctor(config, _shown(config), environment, kubeconfig))
    typer.echo("\n".join(lines))
    return 1 if failed else 0


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
    from cdgen.workspace import display_path

    return display_path(path)


def _error(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def _annotating() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _annotate(kind: str, message: str, **properties: str | int) -> None:
    """A GitHub workflow command, escaped by the same rules as the deploy engine's."""
    from cdgen.deploy.console import escape_data, escape_property

    shown = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    typer.echo(f"::{kind} {shown}::{escape_data(message)}")


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)
    if _annotating():
        _annotate("warning", message, title="cdgen")


def _report(error: CdgenError) -> None:
    if isinstance(error, DescriptorError):
        for v in error.violations:
            typer.echo(str(v), err=True)
        if _annotating():
            for v in error.violations:
                _annotate("error", v.message, file=v.path, line=v.line, col=v.column)
        count = len(error.violations)
        typer.echo(f"cdgen: {count} problem{'s' if count != 1 else ''} found", err=True)
    elif isinstance(error, FindingsError):
        _report_findings(error)
    else:
        _error(str(error))


def _report_findings(error: FindingsError) -> None:
    """Each file and why, its annotation under GitHub Actions, then (drift) the diffs."""
    for finding in error.findings:
        shown = _shown(error.root / finding.path)
        typer.echo(f"{shown}: {finding.message}", err=True)
        if _annotating():
            _annotate("error", finding.message, file=shown, title=error.title)
    if isinstance(error, DriftError):
        for finding in error.findings:
            typer.echo(finding.diff, nl=False)
    _error(error.advice)


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

"""The command line. It only turns options into Settings, runs the Linter and picks a reporter."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

import click

from cptlint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")
SEVERITIES = ("error", "warning", "info")
ENGINES = ("local", "dask")
ECHO_PIECES = 1000  # a streamed report is written this many pieces (findings) at a time


def _codes(ctx, param, values) -> tuple[str, ...]:
    """--select A,B --select C → (A, B, C). An empty selector is a mistake, never "every rule"."""
    codes = tuple(code.strip().upper() for value in values for code in value.split(","))
    if any(not code for code in codes):
        raise click.BadParameter("an empty selector selects every rule by accident; name a code, a prefix or ALL")
    return codes


def visible(text: str) -> str:
    from cptlint.reporters import visible as shown

    return shown(text)


def _fail(message: str) -> None:
    click.echo(f"cptlint: error: {visible(message)}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="cptlint")
def main() -> None:
    """Lint therapy billing encounter files (YAML, JSON, NDJSON)."""
    # A file name that is not UTF-8, or a lone surrogate a JSON file spelt out, is written as
    # \udce9 rather than stopping the report half way (whatever PYTHONIOENCODING says).
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, allow_dash=True))
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report to this file instead of stdout.")
@click.option("--select", multiple=True, callback=_codes, help="Rules to run: codes, prefixes (UNT) or ALL; comma-separated.")
@click.option("--extend-select", multiple=True, callback=_codes, help="Rules to run in addition to the selected ones.")
@click.option("--ignore", multiple=True, callback=_codes, help="Rules not to run: codes or prefixes.")
@click.option("--payer", help="Payer profile for encounters that name none (medicare, commercial, or your own).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Configuration file (pyproject.toml or .cptlint.toml).")
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that makes the exit code 1.  [default: warning]")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Count findings per rule instead of listing them.")
@click.option("-q", "--quiet", is_flag=True, help="Print the findings only: no source excerpts, no summary.")
@click.option("--stdin-filename", help="The name of the file read from '-' (for its format and per-file ignores).")
@click.option("--no-cache", is_flag=True, help="Lint every file, even those unchanged since the last run.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes for many files.  [default: the machine's cores]")
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True, help="Where files are checked: worker processes here, or a Dask cluster (the dask extra).")
@click.option("--scheduler", metavar="ADDRESS", help="With --engine dask: the scheduler to use (tcp://host:8786).  [default: a local cluster]")
@click.option("--workers", type=click.IntRange(min=1), help="With --engine dask and no --scheduler: the local cluster's worker processes.  [default: the machine's cores]")
@click.option("--fix", is_flag=True, help="Apply safe fixes in place (with '-': print the fixed document).")
@click.option("--diff", is_flag=True, help="Print the diff --fix would apply, write nothing; exit 1 if there is one.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply the fixes that need a person's judgement.")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False, path_type=Path), help="Report only findings this baseline file does not hold.")
@click.option("--write-baseline", "write_baseline_path", type=click.Path(dir_okay=False, path_type=Path), help="Record the current findings as the baseline, then exit 0.")
@click.option("--days-across-files", is_flag=True, help="Join a patient's day across the files of the run (default: within each file).")
@click.option("--show-settings", is_flag=True, help="Print the settings each named file (or the current directory) is linted with, and where they come from.")
@click.option("--show-files", is_flag=True, help="List the files the run would lint, and lint nothing.")
def check(paths, output_format, output, select, extend_select, ignore, payer, config_path, fail_on, exit_zero, statistics, quiet, stdin_filename, no_cache, jobs, engine, scheduler, workers, fix, diff, unsafe_fixes, baseline_path, write_baseline_path, days_across_files, show_settings, show_files) -> None:
    """Lint encounter files and directories (default: the current directory)."""
    from cptlint import baseline
    from cptlint.config import ConfigError, Resolver
    from cptlint.diagnostics import Severity
    from cptlint.engine import InternalError, Source
    from cptlint.files import replaced, write_atomic
    from cptlint.fixer import fix as apply_fixes
    from cptlint import formats
    from cptlint.parallel import batched
    from cptlint.policy import PolicyError
    from cptlint.reporters import REPORTERS, STREAMING, Style
    from cptlint.runner import Linters, Runner
    from cptlint.sources import walk

    try:
        resolver = Resolver(
            config_path,
            select=select,
            extend_select=extend_select,
            ignore=ignore,
            payer=payer,
            fail_on=Severity.parse(fail_on) if fail_on else None,
            days_across_files=True if days_across_files else None,
        )
        excerpts = output_format == "text" and not (quiet or statistics)
        linter_for = Linters(resolver, cache=not no_cache, excerpts=excerpts, fixes=fix or diff, stable_ids=engine == "dask")
        linter_for(str(Path.cwd() / "-"))  # the current directory's configuration: a mistake in it stops the run now
        known = baseline.read(baseline_path) if baseline_path else None
    except (ConfigError, PolicyError, baseline.BaselineError) as err:
        _fail(str(err))
    if output and not os.path.isdir(os.path.dirname(os.path.abspath(output))):
        _fail(f"{output}: cannot write the report: its folder {os.path.dirname(output) or '.'} does not exist")
    if show_settings:
        _show_settings(resolver, paths)
        return
    walked = walk([p for p in paths or (".",) if p != "-"], resolver)
    if show_files:
        for source in walked:
            click.echo(visible(source.path))
        return
    sources = walked
    stdin_name = (stdin_filename or "-") if "-" in paths else None
    if stdin_name is not None:
        content = sys.stdin.buffer.read()
        kind = formats.of_head(stdin_name, content).name  # its name's format, or its content's
        sources = chain(sources, [Source(stdin_name, lambda: content, kind)])
    try:
        if fix or diff:
            fixed = apply_fixes(linter_for, sources, unsafe=unsafe_fixes)
            run = fixed.run
        else:
            with _workers(engine, jobs, scheduler, workers) as (chosen, progress):
                run = Runner(linter_for).run(sources, chosen, progress)
    except (InternalError, ConfigError, PolicyError) as err:
        _fail(str(err))
    settings = resolver.default
    if not len(run.files):
        click.echo(f"cptlint: warning: no encounter file in {' '.join(paths or ('.',))}", err=True)
    if fix or diff:
        for path, title in fixed.not_offered:
            click.echo(f"cptlint: {visible(path)}: no fix is offered in an {title} file (correct what wrote it)", err=True)
    if diff:
        patch = "".join(_unified_diff(f.path, f.original, f.text) for f in fixed.files.values())
        click.echo(patch, nl=False)
        sys.exit(EXIT_FINDINGS if patch else EXIT_CLEAN)
    if fix:
        for changed in fixed.files.values():
            if changed.path != stdin_name:
                write_atomic(changed.path, changed.content())
        if stdin_name is not None:  # the fixed document goes to stdout; what remains to stderr
            fixed_stdin = fixed.files.get(stdin_name)
            click.echo(fixed_stdin.text if fixed_stdin else content.decode("utf-8", "replace"), nl=False)
            quiet = True
        click.echo(f"cptlint: fixed {fixed.count} finding{'s' if fixed.count != 1 else ''}", err=True)
    if write_baseline_path:
        count = baseline.write(run.diagnostics, write_baseline_path)
        click.echo(f"cptlint: wrote {count} finding{'s' if count != 1 else ''} to {write_baseline_path}", err=True)
        sys.exit(EXIT_CLEAN)
    if known is not None:
        run.diagnostics, stale = baseline.subtract(run.diagnostics, baseline_path, known, run.files)
        if stale:
            click.echo(f"cptlint: {sum(s.count for s in stale)} baseline entries no longer occur (update with --write-baseline):", err=True)
            for entry in stale:
                click.echo(visible(f"  {entry.path} {entry.code} {entry.pointer or '/'}") + (f" x{entry.count}" if entry.count > 1 else ""), err=True)
    color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    style = Style(color=color, quiet=quiet, statistics=statistics)
    pieces = STREAMING[output_format](run, style) if output_format in STREAMING else [REPORTERS[output_format](run, style)]
    if output:
        with replaced(output) as out:
            for piece in pieces:
                out.write(piece.encode("utf-8", "backslashreplace"))
    else:
        for batch in batched(pieces, ECHO_PIECES):  # click.echo costs the same for one piece or many
            click.echo("".join(batch), nl=False, err=fix and stdin_name is not None)
    failing = any(d.severity >= settings.fail_on for d in run.diagnostics)
    sys.exit(EXIT_FINDINGS if failing and not exit_zero else EXIT_CLEAN)


@contextmanager
def _workers(engine: str, jobs: int | None, scheduler: str | None, workers: int | None):
    """The workers a run checks files on, processes here (--jobs) or a Dask cluster's, and what
    shows its progress on a terminal (files read; a cluster's tasks done)."""
    if engine != "dask":
        if scheduler or workers:
            _fail("--scheduler and --workers choose a Dask cluster: use them with --engine dask")
        from cptlint.parallel import Processes

        yield Processes(jobs or os.cpu_count() or 1), _progress_bar()
        return
    if jobs:
        _fail("--jobs counts local worker processes: with --engine dask, say --workers")
    from cptlint.lake.dask import EngineError, cluster

    try:
        with cluster(scheduler, workers, _progress_bar(unit="tasks")) as chosen:
            yield chosen, None
    except EngineError as err:
        _fail(str(err))


def _show_settings(resolver, paths) -> None:
    """Each file's resolved settings, as ruff --show-settings prints them."""
    from dataclasses import fields

    targets = [p for p in paths if p != "-"] or ["."]
    for target in targets:
        settings = resolver.settings_for_directory(os.path.abspath(target)) if os.path.isdir(target) else resolver.settings_for(target)
        click.echo(f"Settings for {target}")
        click.echo(f"  from: {settings.source or '(defaults: no configuration file found)'}")
        for item in fields(settings):
            if item.name != "source":
                value = getattr(settings, item.name)
                click.echo(f"  {item.name.replace('_', '-')}: {_shown(value)}")


def _shown(value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


def _progress_bar(after: float = 2.0, unit: str = "files"):
    """A count of files (or a cluster's tasks) on stderr, for runs longer than a couple of
    seconds on a terminal."""
    import time

    if not sys.stderr.isatty():
        return None
    started = time.monotonic()

    def show(done: int, total: int | None) -> None:
        if time.monotonic() - started < after:
            return
        of = "" if total is None else f" of {total:,}"
        end = "\r\033[K" if done == total else ""
        click.echo(f"\rcptlint: {done:,}{of} {unit}{end}", err=True, nl=False)

    return show


def _unified_diff(path: str, before: str, after: str) -> str:
    import difflib

    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=f"a/{path}", tofile=f"b/{path}"
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--base", required=True, help="Git revision whose rules data to compare against (a branch, tag or commit).")
@click.option("--format", "output_format", type=click.Choice(("text", "json", "github")), default="text", show_default=True)
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Configuration file.")
def impact(paths, base, output_format, config_path) -> None:
    """Show what a rules change does: findings that appear and disappear against --base.

    Lints PATHS (default: the current directory) with the rules data as of the base revision and
    as in the working tree. Exit 1 when any finding changed.
    """
    from cptlint.config import ConfigError, load_settings
    from cptlint.engine import InternalError
    from cptlint.impact import ImpactError, measure
    from cptlint.policy import PolicyError
    from cptlint.reporters import IMPACT_REPORTERS, Style
    from cptlint.sources import collect

    try:
        settings = load_settings(config_path)
        files = collect(list(paths or (".",)), settings)
        result = measure(settings, base, lambda linter: linter.lint_paths(files))
    except (ConfigError, PolicyError, ImpactError, InternalError) as err:
        _fail(str(err))
    click.echo(IMPACT_REPORTERS[output_format](result, Style()), nl=False)
    sys.exit(EXIT_FINDINGS if result.changed else EXIT_CLEAN)


@main.command()
@click.option("--date", "on", help="Count the pair edits in force on this date of service (YYYY-MM-DD).  [default: today]")
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Configuration file.")
def data(on, output_format, config_path) -> None:
    """Show the rules data a run loads: the CMS files read, their rows, the pair edits in force
    on a date, the MUE rows, and the built-in pairs the CMS files replaced."""
    import datetime
    import re

    from cptlint.config import ConfigError, Resolver
    from cptlint.engine import Linter
    from cptlint.policy import PolicyError

    if on is not None and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", on):
        _fail(f"--date {on}: write the date of service as YYYY-MM-DD")
    on = on or datetime.date.today().isoformat()
    try:
        policy = Linter(Resolver(config_path).default, cache=True).policy  # a full CMS table: read once
    except (ConfigError, PolicyError) as err:
        _fail(str(err))
    from cptlint.icd10 import table

    icd = table()
    rows = pairs = in_force = 0
    for edits in policy.pairs.values():  # one pass: a full CMS table is millions of rows
        rows, pairs = rows + len(edits), pairs + 1
        in_force += any(edit.applies_on(on) for edit in edits)
    summary = {
        "files": [dict(item) for item in policy.loaded],
        "pairs": {"rows": rows, "pairs": pairs, "in_force": in_force, "date": on},
        "mue_rows": len(policy.mue),
        "replaced_builtin_pairs": [list(key) for key in policy.replaced],
        "icd10_cm": None if icd is None else {"release": icd.release, "fiscal_year_start": icd.fiscal_year_start},
    }
    if output_format == "json":
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo("CMS files:" if policy.loaded else "CMS files: none (ptp-files and mue-file are not set)")
    for item in policy.loaded:
        click.echo(f"  {item['kind'].upper():<3}  {item['rows']:>9,} rows  {visible(item['file'])}")
    click.echo(f"Pair edits: {rows:,} rows for {pairs:,} pairs; {in_force:,} in force on {on}")
    click.echo(f"MUE edits: {len(policy.mue):,} codes")
    if icd is None:
        click.echo("ICD-10-CM: not installed, DX004 and DX005 do not run (pip install 'cptlint[icd10]')")
    else:
        click.echo(f"ICD-10-CM: the release of {icd.release} (fiscal year from {icd.fiscal_year_start}), from simple-icd-10-cm")
    if policy.replaced:
        click.echo(f"Built-in pairs the CMS files replace ({len(policy.replaced)}):")
        for first, second in policy.replaced:
            click.echo(f"  {first} {second}")


@main.command(name="rules")
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True)
def list_rules(output_format) -> None:
    """List every rule: code, name, default severity, fix, summary."""
    from cptlint.checks import all_rules

    rules = all_rules()
    if output_format == "json":
        rows = [
            {"code": r.code, "name": r.name, "severity": str(r.severity), "fixable": r.fixable, "summary": r.summary()}
            for r in rules
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    code_width = max(len(r.code) for r in rules)
    name_width = max(len(r.name) for r in rules)
    for r in rules:
        fix = {"safe": "fix", "unsafe": "fix*"}.get(r.fixable or "", "")
        click.echo(f"{r.code:<{code_width}}  {r.name:<{name_width}}  {str(r.severity):<7}  {fix:<4}  {r.summary()}")


@main.command()
@click.argument("code")
def rule(code) -> None:
    """Show the documentation of one rule."""
    from cptlint.checks import REGISTRY
    from cptlint.schema import did_you_mean

    cls = REGISTRY.get(code.upper())
    if cls is None:
        _fail(f'no rule "{code}"{did_you_mean(code.upper(), REGISTRY)}')
    click.echo(cls.page())


@main.command()
def server() -> None:
    """Serve diagnostics and fixes to an editor: the Language Server Protocol over stdio."""
    try:
        from cptlint.server import main as serve
    except ImportError as err:
        _fail(f"cptlint server needs pygls ({err.name} is not installed): pip install 'cptlint[server]'")
    serve()


@main.command()
def schema() -> None:
    """Print the encounter JSON Schema (for editors and other validators)."""
    from cptlint.data import schema_path

    click.echo(schema_path("encounter.schema.json").read_text(encoding="utf-8"), nl=False)

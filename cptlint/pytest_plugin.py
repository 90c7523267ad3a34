"""pytest plugin: encounter files as test items that must meet their `expect:` lists.

Inert until asked: `pytest --cptlint [PATHS]`, or `cptlint = true` (with `cptlint_paths`) in the
ini file. Each encounter file is one item, marked `cptlint`. It passes when its findings equal its
`expect:` list; a file without one passes when it has no finding at or above the configured
fail level. Each file is linted on its own, in process, with the configuration found from its
directory upward, so a fixture's expectations are a property of the fixture alone. A cache keyed
on the file's content, the configuration, the rules data and cptlint's own code skips files
that passed before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CACHE_KEY = "cptlint/passed"
MARKER = "cptlint"


def pytest_addoption(parser) -> None:
    group = parser.getgroup("cptlint", "cptlint encounter files")
    group.addoption("--cptlint", action="store_true", help="lint encounter files (YAML, JSON, NDJSON) as test items")
    group.addoption("--cptlint-no-cache", action="store_true", help="lint every file, even those that passed before")
    parser.addini("cptlint", type="bool", default=False, help="lint encounter files as test items (like --cptlint)")
    parser.addini("cptlint_paths", type="args", default=[], help="where to collect encounter files when no paths are given")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: an encounter file linted by cptlint")
    if not (config.getoption("--cptlint") or config.getini("cptlint")):
        return
    paths = config.getini("cptlint_paths")
    if paths and config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [*config.args, *(str(config.rootpath / p) for p in paths)]
    config.pluginmanager.register(_CptlintPlugin(config), "cptlint-collector")


class _CptlintPlugin:
    def __init__(self, config):
        from cptlint.data import rules_dir

        self.config = config
        self.settings_by_config: dict = {}
        cache = getattr(config, "cache", None)
        self.cache = None if config.getoption("--cptlint-no-cache") else cache
        self.known = set(self.cache.get(CACHE_KEY, [])) if self.cache is not None else set()
        self.passed: set[str] = set()
        self.unchanged = 0  # items that passed from the cache, not linted again
        self.builtin_rules = rules_dir().resolve()
        self.settings_for(config.rootpath / "pyproject.toml")  # a broken configuration stops the run now

    def settings_for(self, path: Path):
        """The configuration nearest to the file, read once per configuration file."""
        from cptlint.config import ConfigError, Settings, find_config, from_table
        from cptlint.engine import Linter
        from cptlint.policy import PolicyError

        found = find_config(path.parent.resolve())
        key = found[0] if found else None
        if key not in self.settings_by_config:
            try:
                settings = from_table(found[1], found[0]) if found else Settings(root=self.config.rootpath)
                self.settings_by_config[key] = (settings, Linter(settings))
            except (ConfigError, PolicyError) as err:  # a broken configuration stops the run, readably
                raise pytest.UsageError(f"cptlint: {err}") from None
        return self.settings_by_config[key]

    def pytest_collect_file(self, file_path: Path, parent):
        from cptlint.formats import SUFFIXES

        if not file_path.name.lower().endswith(SUFFIXES):
            return None
        resolved = file_path.resolve()
        if self.builtin_rules in resolved.parents:
            return None
        settings, _ = self.settings_for(file_path)
        if settings.is_excluded(resolved) or any(p.resolve() in resolved.parents for p in settings.extend_rules):
            return None
        return CptlintFile.from_parent(parent, path=file_path)

    def pytest_runtest_logreport(self, report) -> None:
        keys = [value for name, value in report.user_properties if name == "cptlint_key"]
        if keys and report.passed and report.when == "call":
            self.passed.update(keys)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.unchanged:
            terminalreporter.write_line(f"cptlint: {self.unchanged} unchanged files passed as before (--cptlint-no-cache lints them again)")

    def pytest_sessionfinish(self, session) -> None:
        if self.cache is not None and not hasattr(self.config, "workerinput"):
            self.cache.set(CACHE_KEY, sorted(self.passed))


class CptlintFile(pytest.File):
    def collect(self):
        yield CptlintItem.from_parent(self, name=MARKER)


class Mismatch(Exception):
    """The findings of a file did not meet its expectations."""

    def __init__(self, missing, unexpected, stated: bool):
        super().__init__()
        self.missing, self.unexpected, self.stated = missing, unexpected, stated


class CptlintItem(pytest.Item):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_marker(MARKER)
        self.plugin: _CptlintPlugin = self.config.pluginmanager.get_plugin("cptlint-collector")
        self.settings, self.linter = self.plugin.settings_for(self.path)
        self.content = b""
        self.sidecar: bytes | None = None  # a claim file's expectations (expectations.py)
        # No fixtures; and pytest-lsp 1.0's runtest wrapper fails on an item without funcargs.
        self.funcargs: dict = {}

    @property
    def display_path(self) -> str:
        try:
            return self.path.relative_to(self.config.rootpath).as_posix()
        except ValueError:
            return str(self.path)

    def cache_key(self) -> str:
        """Everything that decides the item's verdict: the file's path relative to its
        configuration, its content, the resolved settings, the rules data and cptlint's code."""
        from cptlint.cache import code_fingerprint, digest
        from cptlint.config import relative_posix

        where = relative_posix(self.path, self.settings.root).encode("utf-8", "surrogatepass")
        parts = (where, self.content, repr(self.sidecar).encode(), repr(self.settings).encode(), self.linter.policy.fingerprint.encode(), code_fingerprint().encode())
        return digest(*parts)

    def setup(self) -> None:
        from cptlint.expectations import sidecar_of

        self.content = self.path.read_bytes()
        sidecar = Path(sidecar_of(str(self.path)))
        self.sidecar = sidecar.read_bytes() if sidecar.is_file() and not sidecar.is_symlink() else None
        self.key = self.cache_key()
        self.user_properties.append(("cptlint_key", self.key))

    def runtest(self) -> None:
        from cptlint.engine import Source
        from cptlint.expectations import compare, read_expectations

        if self.key in self.plugin.known:
            self.plugin.unchanged += 1
            return  # it passed, and nothing that decides its verdict has changed since: it passes
        content = self.content
        found = self.linter.run([Source(str(self.path), lambda: content)]).diagnostics
        expected = read_expectations(self.display_path, content, self.sidecar)
        if expected is None:
            unexpected = [d for d in found if d.severity >= self.settings.fail_on]
            missing: list = []
        else:
            missing, unexpected = compare(expected, found)
        if missing or unexpected:
            raise Mismatch(missing, unexpected, expected is not None)

    def repr_failure(self, excinfo, style=None):
        if not isinstance(excinfo.value, Mismatch):
            return super().repr_failure(excinfo, style)
        mismatch = excinfo.value
        from cptlint.expectations import SIDECAR
        from cptlint.formats import of_head

        list_name = "expect: list" if of_head(str(self.path), self.content).states_expectations else f"{SIDECAR} file ({self.path.name}{SIDECAR})"
        what = f"do not meet its {list_name}" if mismatch.stated else f"(it states no {list_name})"
        rows = [("missing", e.code, "-", e.pointer or "(anywhere)", "") for e in mismatch.missing]
        rows += [("unexpected", d.code, f"{d.line}:{d.column}", d.pointer or "/", d.message) for d in mismatch.unexpected]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [f"cptlint findings in {self.display_path} {what}"]
        lines += [("  " + "  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4]).rstrip() for r in rows]
        return "\n".join(lines)

    def reportinfo(self):
        return self.path, None, f"cptlint: {self.display_path}"


class LintResult:
    """What the `cptlint` fixture returns: the findings, and their codes as a set."""

    def __init__(self, diagnostics):
        self.diagnostics = diagnostics

    @property
    def codes(self) -> set[str]:
        return {d.code for d in self.diagnostics}

    def __iter__(self):
        return iter(self.diagnostics)

    def __len__(self) -> int:
        return len(self.diagnostics)


class Cptlint:
    """Lint an encounter in a test: a dict, a YAML (or JSON) string, or a path."""

    def __init__(self, rootpath: Path):
        self.rootpath = rootpath

    def lint(self, document, *, name: str | None = None, **options) -> LintResult:
        """A Path is linted as the file it is, with the configuration nearest to it; a dict or
        list (as yaml.safe_load or json.load gives it, dates included) as JSON; text as YAML."""
        from dataclasses import replace

        from cptlint.config import Resolver
        from cptlint.engine import Linter, Source

        if isinstance(document, Path):
            settings = Resolver(cwd=self.rootpath).settings_for(document.resolve())
            source = Source(str(document))
        else:
            if isinstance(document, (dict, list)):
                content, name = json.dumps(document, default=_json_value).encode(), name or "encounter.json"
            else:
                content, name = str(document).encode(), name or "encounter.yaml"
            settings = Resolver(cwd=self.rootpath).default
            source = Source(str(self.rootpath / name), lambda: content)
        if options:
            settings = replace(settings, **options)
        return LintResult(Linter(settings).run([source]).diagnostics)


def _json_value(value):
    """What yaml.safe_load gives that JSON has no type for: a date as YYYY-MM-DD (a datetime
    as ISO 8601), as the encounter format writes it."""
    import datetime

    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not an encounter value")


@pytest.fixture
def cptlint(request) -> Cptlint:
    """Lint encounters inside ordinary tests: `assert cptlint.lint(doc).codes == {"UNT001"}`."""
    return Cptlint(request.config.rootpath)

"""Settings: `[tool.cptlint]` in pyproject.toml or a .cptlint.toml, then the command line.

The file is found from the current directory upward (in each directory .cptlint.toml first);
`--config` names one. Every key and value is checked: a mistake is a ConfigError naming the key,
and the CLI exits 2 on it.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from cptlint.diagnostics import Severity
from cptlint.schema import did_you_mean

DEFAULT_PAYER = "medicare"
# Never encounter files, even when named on the command line (pre-commit names every YAML file).
ALWAYS_EXCLUDED = (
    ".*",
    "node_modules",
    "__pycache__",
    "venv",
    "site-packages",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
)
KEYS = (
    "select",
    "extend-select",
    "ignore",
    "per-file-ignores",
    "severity",
    "payer",
    "exclude",
    "extend-rules",
    "fail-on",
    "mue-file",
    "ptp-files",
    "fixable",
    "unfixable",
    "days-across-files",
    "max-file-size",
    "claim-payers",
)
DEFAULT_MAX_FILE_SIZE = 16 << 20  # bytes: an encounter document is kilobytes; NDJSON is streamed


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("ALL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()
    payer: str = DEFAULT_PAYER
    exclude: tuple[str, ...] = ()
    extend_rules: tuple[Path, ...] = ()
    mue_file: Path | None = None
    ptp_files: tuple[Path, ...] = ()
    fail_on: Severity = Severity.WARNING
    fixable: tuple[str, ...] = ("ALL",)
    unfixable: tuple[str, ...] = ()
    days_across_files: bool = False  # join a patient's day across the files of a run
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # a YAML or JSON file larger than this is not read
    # a claim's payer code (`sbr09:BL`) to a payer profile, over the formats' own (formats.payer_of)
    claim_payers: tuple[tuple[str, str], ...] = ()
    root: Path = field(default_factory=Path.cwd)  # globs are relative to it
    source: Path | None = None  # the configuration file read, if any

    def enabled(self, code: str) -> bool:
        """ruff's selection: the most specific matching selector wins; ignore wins a tie."""
        return _selected(code, self.select + self.extend_select, self.ignore)

    def fix_enabled(self, code: str) -> bool:
        """`fixable` and `unfixable` select fixes as `select` and `ignore` select rules."""
        return _selected(code, self.fixable, self.unfixable)

    def severity_of(self, code: str, default: Severity) -> Severity:
        return dict(self.severity).get(code, default)

    @cached_property
    def _excluded(self) -> re.Pattern:
        return globs_pattern(self.exclude + ALWAYS_EXCLUDED)

    @cached_property
    def _per_file(self) -> list[tuple[re.Pattern, tuple[str, ...]]]:
        return [(globs_pattern((pattern,)), codes) for pattern, codes in self.per_file_ignores]

    def ignored_in_file(self, path: str) -> tuple[str, ...]:
        relative = relative_posix(path, self.root)
        return tuple(code for pattern, codes in self._per_file if pattern.search(relative) for code in codes)

    def is_excluded(self, path: str | Path) -> bool:
        return self._excluded.search(relative_posix(path, self.root)) is not None


def _selected(code: str, select, ignore) -> bool:
    best_on = max((_specificity(s) for s in select if matches(code, s)), default=-1)
    best_off = max((_specificity(s) for s in ignore if matches(code, s)), default=-1)
    return best_on > best_off


def _specificity(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


def matches(code: str, selector: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def relative_posix(path: str | Path, root: Path) -> str:
    """The path relative to the configuration's directory; outside it, just the file name."""
    absolute = os.path.abspath(path)
    base = os.path.abspath(root)
    if absolute == base or absolute.startswith(base.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, base).replace(os.sep, "/")  # not Path: it interns every name
    return os.path.basename(absolute)


def globs_pattern(patterns) -> re.Pattern:
    """One regular expression for gitignore-like globs: a pattern without '/' matches any path
    component; one with '/' matches from the root; either also matches everything below a
    matching directory. `*` stays within a component."""
    parts = []
    for pattern in patterns:
        pattern = pattern.strip().removeprefix("./").rstrip("/")
        body = fnmatch.translate(pattern.lstrip("/")).removeprefix("(?s:").removesuffix(")\\Z")
        body = body.replace(".*", "[^/]*")
        parts.append(("(?:^|/)" if "/" not in pattern else "^") + f"(?:{body})(?:/|$)")
    return re.compile("|".join(parts) or "(?!)")


# ------------------------------------------------------------------------------------ reading


def find_config(start: Path) -> tuple[Path, dict] | None:
    for directory in (start, *start.parents):
        dotfile = directory / ".cptlint.toml"
        if dotfile.is_file():
            return dotfile, _read_toml(dotfile)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {}).get("cptlint")
            if table is not None:
                return pyproject, table
    return None


def read_config(path: Path) -> dict:
    content = _read_toml(path)
    return content.get("tool", {}).get("cptlint", {}) if path.name == "pyproject.toml" else content


def _read_toml(path: Path) -> dict:
    # imported here, not at the top: a run that finds no configuration file never needs it
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None


def load_settings(config: Path | None = None, cwd: Path | None = None) -> Settings:
    cwd = cwd or Path.cwd()
    if config is not None:
        if not config.is_file():
            raise ConfigError(f"{config}: configuration file not found")
        found = (config.resolve(), read_config(config))
    else:
        found = find_config(cwd.resolve())
    if found is None:
        return Settings(root=cwd.resolve())
    path, table = found
    return from_table(table, path)


def from_table(table: dict, path: Path) -> Settings:
    where = f"{path}" + (" [tool.cptlint]" if path.name == "pyproject.toml" else "")
    unknown = [key for key in table if key not in KEYS]
    if unknown:
        raise ConfigError(f'{where}: unknown key "{unknown[0]}"{did_you_mean(unknown[0], KEYS)}')
    root = path.parent
    values: dict = {"root": root, "source": path}
    for key in ("select", "extend-select", "ignore", "fixable", "unfixable"):
        if key in table:
            values[key.replace("-", "_")] = tuple(_selectors(table[key], f"{where}: {key}"))
    for key in ("exclude",):
        if key in table:
            values[key] = tuple(_strings(table[key], f"{where}: {key}"))
    if "extend-rules" in table:
        values["extend_rules"] = tuple(
            (root / p).resolve() for p in _strings(table["extend-rules"], f"{where}: extend-rules")
        )
    if "ptp-files" in table:
        values["ptp_files"] = tuple((root / p).resolve() for p in _strings(table["ptp-files"], f"{where}: ptp-files"))
    if "mue-file" in table:
        if not isinstance(table["mue-file"], str):
            raise ConfigError(f"{where}: mue-file must be a path")
        values["mue_file"] = (root / table["mue-file"]).resolve()
    if "per-file-ignores" in table:
        entries = _table(table["per-file-ignores"], f"{where}: per-file-ignores")
        values["per_file_ignores"] = tuple(
            (glob, tuple(_selectors(codes, f"{where}: per-file-ignores.{glob}"))) for glob, codes in entries.items()
        )
    if "severity" in table:
        entries = _table(table["severity"], f"{where}: severity")
        for code in entries:
            _require_code(code, f"{where}: severity")
        values["severity"] = tuple(
            (code, _severity(level, f"{where}: severity.{code}")) for code, level in entries.items()
        )
    if "claim-payers" in table:
        entries = _table(table["claim-payers"], f"{where}: claim-payers")
        for code, profile in entries.items():
            if ":" not in code or not isinstance(profile, str):
                raise ConfigError(
                    f'{where}: claim-payers maps a claim\'s payer code (as "sbr09:BL" or "sopt:5") to a payer profile name, got {code!r} = {profile!r}'
                )
        values["claim_payers"] = tuple(entries.items())
    if "payer" in table:
        if not isinstance(table["payer"], str):
            raise ConfigError(f"{where}: payer must be a payer profile name")
        values["payer"] = table["payer"]
    if "fail-on" in table:
        values["fail_on"] = _severity(table["fail-on"], f"{where}: fail-on")
    if "days-across-files" in table:
        if not isinstance(table["days-across-files"], bool):
            raise ConfigError(f"{where}: days-across-files must be true or false")
        values["days_across_files"] = table["days-across-files"]
    if "max-file-size" in table:
        size = table["max-file-size"]
        if type(size) is not int or size < 1:
            raise ConfigError(f"{where}: max-file-size must be a whole number of bytes, at least 1")
        values["max_file_size"] = size
    return Settings(**values)


class Resolver:
    """The settings of each file, as ruff finds them: the configuration nearest to the file
    (in each directory .cptlint.toml first, then pyproject.toml with a [tool.cptlint] table),
    or the one `--config` names for all; the command line's options on top. A directory's
    answer is remembered, and each configuration file is read once."""

    def __init__(self, config: Path | None = None, cwd: Path | None = None, **options):
        self.cwd = (cwd or Path.cwd()).resolve()
        self.options = options
        self.fixed = override(load_settings(config, self.cwd), **options) if config is not None else None
        self.by_directory: dict[str, Settings] = {}
        self.by_file: dict[Path | None, Settings] = {}
        self.default = self.settings_for_directory(self.cwd) if self.fixed is None else self.fixed

    def settings_for(self, path: str | Path) -> Settings:
        """The settings of a file (or of standard input, by the name it is given)."""
        if self.fixed is not None:
            return self.fixed
        return self.settings_for_directory(os.path.dirname(os.path.abspath(path)))

    def settings_for_directory(self, directory: str | Path) -> Settings:
        if self.fixed is not None:
            return self.fixed
        directory = str(directory)
        known = self.by_directory.get(directory)
        if known is None:
            found = find_config(Path(directory))
            source = found[0] if found else None
            known = self.by_file.get(source)
            if known is None:
                base = from_table(found[1], found[0]) if found else Settings(root=self.cwd)
                known = self.by_file[source] = override(base, **self.options)
            self.by_directory[directory] = known
        return known

    def all_settings(self) -> list[Settings]:
        """Every configuration read so far, the one for the current directory first."""
        seen = [self.default]
        for settings in self.by_file.values():
            if settings not in seen:
                seen.append(settings)
        return seen


def override(settings: Settings, **options) -> Settings:
    """The command line's options on top of the file's."""
    changes = {key: value for key, value in options.items() if value not in (None, ())}
    if "extend_select" in changes:
        changes["extend_select"] = settings.extend_select + tuple(changes["extend_select"])
    if "ignore" in changes:
        changes["ignore"] = settings.ignore + tuple(changes["ignore"])
    for key in ("select", "extend_select", "ignore"):
        if key in changes:
            _selectors(changes[key], f"--{key.replace('_', '-')}")
    return replace(settings, **changes)


def _strings(value, where: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return value


def _table(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    return value


def _selectors(value, where: str) -> list[str]:
    from cptlint.checks import REGISTRY

    selectors = _strings(list(value) if isinstance(value, tuple) else value, where)
    for selector in selectors:
        if not selector.strip():
            raise ConfigError(f'{where}: an empty selector ("") selects every rule by accident; name a code, a prefix or ALL')
        if selector != "ALL" and not any(code.startswith(selector) for code in REGISTRY):
            raise ConfigError(f'{where}: "{selector}" selects no rule{did_you_mean(selector, REGISTRY)}')
    return selectors


def _require_code(code: str, where: str) -> None:
    from cptlint.checks import REGISTRY

    if code not in REGISTRY:
        raise ConfigError(f'{where}: "{code}" is not a rule code{did_you_mean(code, REGISTRY)}')


def _severity(value, where: str) -> Severity:
    try:
        return Severity.parse(value if isinstance(value, str) else repr(value))
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from None

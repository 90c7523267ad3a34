"""`cptlint server`: the Language Server Protocol over stdio, on pygls (the `server` extra).

An open document is linted as `cptlint check` lints the file it is (the configuration nearest to
it, its days within itself), from the editor's text: on open and save at once, on change after a
short pause (a burst of keystrokes is one lint). Each finding is a diagnostic with its rule code,
severity, start and end, and a link to the rule's page. A rule code in a disable comment, an
`expect:` list or an `.expect` sidecar shows its documentation on hover and is completed there;
region and technique names are completed from the rules data. Code actions: a finding's own fix
(an unsafe one marked so), "disable CODE on this line" where the format has line comments, and
"fix all" (`source.fixAll.cptlint`): the file's safe fixes as one edit. Settings come from the
client's `initializationOptions` and `workspace/didChangeConfiguration` (`select`, `ignore`,
`payer`, `fixOnSave`). A document that cannot be read gets its SCH001 where it breaks; nothing a
document holds stops the server.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from cptlint import __version__
from cptlint.config import ConfigError, Resolver
from cptlint.diagnostics import Severity
from cptlint.engine import Source
from cptlint.runner import Linters

PAUSE = 0.03  # seconds without a change before a changed document is linted again
RULES_URL = "https://github.com/cptlint/cptlint/blob/main/docs/rules/{code}.md"  # docs/rules: each rule's page
FIX_ALL = "source.fixAll.cptlint"
SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
SETTINGS = ("select", "ignore", "payer")  # over the configuration files'; and fixOnSave

log = logging.getLogger(__name__)


class CptlintServer(LanguageServer):
    def __init__(self):
        super().__init__("cptlint", __version__)
        self.options: dict = {}
        self.fix_on_save = False
        self.linters, self.fixing = self._linters(), self._linters(fixes=True)
        self.pending: dict[str, asyncio.TimerHandle] = {}

    def configure(self, options) -> None:
        """The client's settings (select, ignore, payer), over the configuration files'; and
        fixOnSave, whether a save first applies the safe fixes."""
        options = options if isinstance(options, dict) else {}
        self.fix_on_save = options.get("fixOnSave") is True
        chosen = {key: options[key] for key in SETTINGS if options.get(key) is not None}
        for key in ("select", "ignore"):
            if key in chosen:
                chosen[key] = tuple(map(str, chosen[key])) if isinstance(chosen[key], list) else (str(chosen[key]),)
        previous = self.options
        self.options = chosen
        try:
            self.linters, self.fixing = self._linters(), self._linters(fixes=True)
        except ConfigError as err:  # the settings the client sent: said, and the earlier ones kept
            self.options = previous
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"cptlint: settings: {err}"))

    def _linters(self, fixes: bool = False) -> Linters:
        return Linters(Resolver(None, **self.options), cache=False, excerpts=False, fixes=fixes)

    def opened(self, uri: str):
        """(the open document, the path of the file it is)."""
        return self.workspace.get_text_document(uri), to_fs_path(uri) or uri

    def lint(self, uri: str) -> None:
        """Publish the document's findings now; a configuration that cannot be read is one
        message to the user, and any failure of cptlint's own is logged, never raised."""
        from cptlint.expectations import SIDECAR

        self.pending.pop(uri, None)
        document, path = self.opened(uri)
        if path.endswith(SIDECAR):
            return  # a claim fixture's expectations: completed and hovered, not linted
        try:
            found = findings(self.linters, path, document.source)
        except ConfigError as err:
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"cptlint: {err}"))
            found = []
        except Exception:  # cptlint's own failure: say so in the log, keep serving
            log.exception("cptlint could not lint %s", path)
            found = []
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=document.version, diagnostics=[diagnostic(d, document) for d in found])
        )
        gc.unfreeze()  # what reading froze (loader._collector_paused) is the collector's again: the server lives long

    def lint_soon(self, uri: str) -> None:
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        self.pending[uri] = asyncio.get_running_loop().call_later(PAUSE, self.lint, uri)

    def quick_fixes(self, uri: str, wanted: types.Range) -> list[types.CodeAction]:
        """For each finding on the lines of wanted: its fix (safe, or marked unsafe), and in a
        format with line comments, "disable CODE on this line"."""
        from cptlint import formats
        from cptlint.fixes import edits_for
        from cptlint.loader import LineMap
        from cptlint.runner import Runner

        document, path = self.opened(uri)
        text = document.source
        linters = self.fixing
        [result] = Runner(linters).results([_source(path, text)], keep_documents=True)
        doc, linter = result.doc, linters(path)
        commented = doc is not None and formats.of_kind(doc.kind).line_comments
        lines = LineMap(text)
        actions = []
        for found in result.diagnostics:
            if not wanted.start.line <= found.line - 1 <= wanted.end.line:
                continue
            shown = diagnostic(found, document)
            if found.fix is not None and doc is not None and formats.of_kind(doc.kind).writes_fixes and linter.may_fix(found.code, True):
                edits = edits_for(doc, found.fix)
                if edits:
                    unsafe = not linter.may_fix(found.code, False)
                    actions.append(
                        types.CodeAction(
                            title=f"cptlint: {found.fix.description}" + (" (unsafe: check it)" if unsafe else ""),
                            kind=types.CodeActionKind.QuickFix,
                            diagnostics=[shown],
                            is_preferred=not unsafe,
                            edit=types.WorkspaceEdit(changes={uri: [_text_edit(document, lines, e) for e in edits]}),
                        )
                    )
            if commented:
                actions.append(
                    types.CodeAction(
                        title=f"cptlint: disable {found.code} on this line",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[shown],
                        edit=types.WorkspaceEdit(changes={uri: [_disable(document, found.line - 1, found.code)]}),
                    )
                )
        return actions

    def fixed_text(self, uri: str) -> str | None:
        """The document with its safe fixes applied, or None when they change nothing."""
        from cptlint.fixer import fix

        document, path = self.opened(uri)
        result = fix(self.fixing, [_source(path, document.source)])
        edited = result.files.get(path)
        return edited.text if edited is not None else None


def findings(linters: Linters, path: str, text: str):
    return linters(path).run([_source(path, text)]).diagnostics


def _source(path: str, text: str) -> Source:
    """The editor's text of the file at path, to lint as that file."""
    return Source(path, lambda: text.encode("utf-8", "surrogatepass"))


def diagnostic(found, document) -> types.Diagnostic:
    """An LSP diagnostic of a cptlint finding: 0-based lines and characters, counted in the
    client's units (UTF-16 unless it chose otherwise), where cptlint counts characters from 1."""
    start = types.Position(line=found.line - 1, character=found.column - 1)
    end = types.Position(line=max(found.end_line, found.line) - 1, character=max(found.end_column - 1, 0))
    if (end.line, end.character) <= (start.line, start.character):
        end = types.Position(line=start.line, character=start.character + 1)
    return types.Diagnostic(
        range=document.position_codec.range_to_client_units(document.lines, types.Range(start=start, end=end)),
        message=found.message,
        severity=SEVERITIES.get(found.severity, types.DiagnosticSeverity.Warning),
        code=found.code,
        code_description=types.CodeDescription(href=RULES_URL.format(code=found.code)),
        source="cptlint",
        data={"pointer": found.pointer, "fixable": found.fixable},
    )


def _text_edit(document, lines, edit) -> types.TextEdit:
    """A cptlint edit (offsets into the text) as an LSP one, in the client's units."""
    (start_line, start_column), (end_line, end_column) = lines.position(edit.start), lines.position(edit.end)
    where = types.Range(start=types.Position(start_line - 1, start_column - 1), end=types.Position(end_line - 1, end_column - 1))
    return types.TextEdit(range=document.position_codec.range_to_client_units(document.lines, where), new_text=edit.text)


def _disable(document, line: int, code: str) -> types.TextEdit:
    """`# cptlint: disable=CODE` at the end of the line, or CODE added to the one there."""
    from cptlint.suppressions import directive_on

    lines = document.lines
    written = lines[line].rstrip("\r\n") if line < len(lines) else ""
    at = document.position_codec.position_to_client_units(lines, types.Position(line, len(written)))
    text = f",{code}" if directive_on(written) else f"  # cptlint: disable={code}"
    return types.TextEdit(range=types.Range(start=at, end=at), new_text=text)


server = CptlintServer()


@server.feature(types.INITIALIZE)
def initialize(ls: CptlintServer, params: types.InitializeParams) -> None:
    ls.configure(params.initialization_options or {})


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: CptlintServer, params: types.DidChangeConfigurationParams) -> None:
    settings = params.settings
    ls.configure(settings.get("cptlint", settings) if isinstance(settings, dict) else {})
    for uri in list(ls.workspace.text_documents):
        ls.lint(uri)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: CptlintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: CptlintServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_WILL_SAVE_WAIT_UNTIL)
def will_save(ls: CptlintServer, params: types.WillSaveTextDocumentParams) -> list[types.TextEdit]:
    """With fixOnSave, the document's safe fixes, made before it is written."""
    uri = params.text_document.uri
    if not ls.fix_on_save:
        return []
    try:
        text = ls.fixed_text(uri)
    except Exception:
        log.exception("cptlint could not fix %s", uri)
        return []
    return [] if text is None else [_whole_document(ls, uri, text)]


def _whole_document(ls: CptlintServer, uri: str, text: str) -> types.TextEdit:
    lines = ls.workspace.get_text_document(uri).lines
    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=len(lines), character=0))
    return types.TextEdit(range=whole, new_text=text)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: CptlintServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.lint_soon(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: CptlintServer, params: types.DidCloseTextDocumentParams) -> None:
    waiting = ls.pending.pop(params.text_document.uri, None)
    if waiting is not None:
        waiting.cancel()
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll, FIX_ALL]),
)
def code_action(ls: CptlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """The quick fixes of the findings in the range, and "fix all" of the document's safe fixes
    as one edit of the whole text; `only` narrows them as the client asks."""
    uri, only = params.text_document.uri, params.context.only
    wants = lambda kind: not only or any(kind.startswith(str(asked)) for asked in only)  # noqa: E731
    actions = []
    try:
        if wants(types.CodeActionKind.QuickFix.value):
            actions += ls.quick_fixes(uri, params.range)
        text = ls.fixed_text(uri) if wants(FIX_ALL) else None
    except Exception:
        log.exception("cptlint could not fix %s", uri)
        return actions
    if text is not None:
        edit = types.WorkspaceEdit(changes={uri: [_whole_document(ls, uri, text)]})
        actions.append(types.CodeAction(title="cptlint: fix all safe fixes", kind=FIX_ALL, edit=edit))
    return actions


def _from_client(document, position: types.Position) -> types.Position:
    """A position the client sent, in characters of the document's lines."""
    if position.line >= len(document.lines):
        return position
    return document.position_codec.position_from_client_units(document.lines, position)


_CODE_AT = re.compile(r"[A-Z]{3}[0-9]{3}")
_NAMES_AT = re.compile(r"^\s*(?:-\s*)?(regions|techniques)\s*:")


def _codes_here(uri: str, line: str) -> bool:
    """Whether rule codes belong at this line: a disable comment, an expect list, a claim
    fixture's `.expect` sidecar."""
    from cptlint.expectations import SIDECAR

    return uri.endswith(SIDECAR) or "cptlint: disable" in line or re.match(r"^\s*(?:-\s*)?expect\s*:", line) is not None


def _word_at(line: str, character: int) -> str | None:
    for match in _CODE_AT.finditer(line):
        if match.start() <= character <= match.end():
            return match.group()
    return None


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: CptlintServer, params: types.HoverParams) -> types.Hover | None:
    """A rule code in a disable comment or an expect list: its documentation."""
    from cptlint.checks import REGISTRY

    document = ls.workspace.get_text_document(params.text_document.uri)
    lines, at = document.lines, _from_client(document, params.position)
    line = lines[at.line] if at.line < len(lines) else ""
    code = _word_at(line, at.character)
    rule = REGISTRY.get(code) if code and _codes_here(params.text_document.uri, line) else None
    if rule is None:
        return None
    text = f"**{rule.code} {rule.name}** ({rule.severity})\n\n{rule.documentation()}"
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["=", ",", "[", " "]))
def completion(ls: CptlintServer, params: types.CompletionParams) -> types.CompletionList:
    """Rule codes in a disable comment or an expect list; region and technique names (the
    rules data of the file's configuration) in `regions:` and `techniques:`."""
    from cptlint.checks import REGISTRY

    uri = params.text_document.uri
    document = ls.workspace.get_text_document(uri)
    lines, at = document.lines, _from_client(document, params.position)
    line = lines[at.line][: at.character] if at.line < len(lines) else ""
    items: list[types.CompletionItem] = []
    if _codes_here(uri, line):
        items = [
            types.CompletionItem(label=code, kind=types.CompletionItemKind.EnumMember, detail=rule.name, documentation=rule.summary())
            for code, rule in sorted(REGISTRY.items())
        ]
    else:
        named = _NAMES_AT.match(line)
        if named is not None:
            try:
                policy = ls.linters(ls.opened(uri)[1]).policy
            except Exception:
                log.exception("cptlint could not read the rules data for %s", uri)
                return types.CompletionList(is_incomplete=False, items=[])
            names = policy.region_names() if named.group(1) == "regions" else sorted(policy.techniques)
            items = [types.CompletionItem(label=name, kind=types.CompletionItemKind.Value) for name in names]
    return types.CompletionList(is_incomplete=False, items=items)


def main() -> None:
    server.start_io()

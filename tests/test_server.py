"""`cptlint server` driven as an editor drives it: pygls's LSP client over stdio, against the
server in a subprocess (`python -m cptlint server`)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from tests.conftest import CLEAN_VISIT

OVER = CLEAN_VISIT.replace("units: 1\n", "units: 3\n", 1)  # three 97140 units for 15 minutes: UNT001
WAIT = 30  # seconds a test waits for the server before it fails


class Editor:
    """An LSP client as an editor is one: it opens, changes and asks, and keeps what the server
    publishes, by document."""

    def __init__(self, root: Path, options: dict | None = None):
        self.root, self.options = root, options
        self.client = LanguageClient("cptlint-tests", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.published: dict[str, asyncio.Event] = {}

        self.messages: list[str] = []
        self.counts: dict[str, int] = {}  # diagnostics published, by document

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def shown(params: types.ShowMessageParams) -> None:
            self.messages.append(params.message)

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)
            self.counts[params.uri] = self.counts.get(params.uri, 0) + 1
            self.published.setdefault(params.uri, asyncio.Event()).set()

    async def __aenter__(self) -> "Editor":
        await self.client.start_io(sys.executable, "-m", "cptlint", "server")
        await self.client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=self.root.as_uri(), initialization_options=self.options)
        )
        self.client.initialized(types.InitializedParams())
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.wait_for(self.client.shutdown_async(None), WAIT)
        self.client.exit(None)
        await self.client.stop()

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    async def next_diagnostics(self, uri: str) -> list[types.Diagnostic]:
        event = self.published.setdefault(uri, asyncio.Event())
        await asyncio.wait_for(event.wait(), WAIT)
        event.clear()
        return self.diagnostics[uri]

    async def open(self, name: str, text: str) -> list[types.Diagnostic]:
        uri = self.uri(name)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text))
        )
        return await self.next_diagnostics(uri)

    def change(self, name: str, version: int, text: str) -> None:
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=self.uri(name), version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


def in_editor(tmp_path: Path, scenario, options: dict | None = None) -> None:
    async def run() -> None:
        async with Editor(tmp_path, options) as editor:
            await scenario(editor)

    asyncio.run(run())


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines()) if needle in line)


def test_a_finding_arrives_on_its_line_with_its_code_and_link(tmp_path):
    async def scenario(editor: Editor) -> None:
        [found] = [d for d in await editor.open("over.yaml", OVER) if d.code == "UNT001"]
        assert found.range.start.line == line_of(OVER, "units: 3") and found.severity == types.DiagnosticSeverity.Error
        assert found.range.end.character > found.range.start.character and found.source == "cptlint"
        assert found.code_description.href.endswith("/docs/rules/UNT001.md")
        assert (Path(__file__).parents[1] / "docs" / "rules" / "UNT001.md").is_file()  # the page it links to

    in_editor(tmp_path, scenario)


def test_fix_all_applies_the_safe_fix_and_a_change_clears_the_finding(tmp_path):
    async def scenario(editor: Editor) -> None:
        await editor.open("fix.yaml", OVER)
        uri = editor.uri("fix.yaml")
        actions = await editor.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
                context=types.CodeActionContext(diagnostics=[], only=["source.fixAll.cptlint"]),
            )
        )
        [action] = actions
        [edit] = action.edit.changes[uri]
        assert "units: 1\n" in edit.new_text and "units: 3\n" not in edit.new_text
        editor.change("fix.yaml", 2, edit.new_text)
        assert await editor.next_diagnostics(uri) == []

    in_editor(tmp_path, scenario)


def test_a_burst_of_changes_waits_for_the_pause_and_ends_on_the_last_text(tmp_path):
    async def scenario(editor: Editor) -> None:
        await editor.open("burst.yaml", CLEAN_VISIT)
        for version in range(2, 7):
            editor.change("burst.yaml", version, OVER if version == 6 else CLEAN_VISIT)
        uri = editor.uri("burst.yaml")
        await editor.next_diagnostics(uri)
        await asyncio.sleep(0.5)
        assert [d.code for d in editor.diagnostics[uri]] == ["UNT001"]  # the last text's findings
        assert editor.counts[uri] - 1 < 5  # five changes, fewer lints (one, unless the machine stalls)

    in_editor(tmp_path, scenario)


def test_a_document_that_does_not_parse_gets_its_sch001_and_hostile_ones_leave_the_server_running(tmp_path):
    async def scenario(editor: Editor) -> None:
        [found] = await editor.open("broken.yaml", "id: [unclosed\n")
        assert found.code == "SCH001" and found.range.start.line == 1
        hostile = ["\x00\xff", "a: &a [*a]\n", "{" * 5000, "\ud800: x\n", "ISA*" * 40, '{"resourceType": "Claim", "item": 5}']
        for n, text in enumerate(hostile):
            await editor.open(f"hostile{n}.json" if text.startswith("{") else f"hostile{n}.yaml", text)
        assert "UNT001" in [d.code for d in await editor.open("after.yaml", OVER)]  # still answering

    in_editor(tmp_path, scenario)


def test_settings_from_the_client_select_the_rules(tmp_path):
    async def scenario(editor: Editor) -> None:
        await editor.open("visit.yaml", OVER)
        editor.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"cptlint": {"ignore": ["UNT001"]}})
        )
        assert "UNT001" not in [d.code for d in await editor.next_diagnostics(editor.uri("visit.yaml"))]

    in_editor(tmp_path, scenario)


def test_settings_that_select_no_rule_are_said_and_the_earlier_ones_kept(tmp_path):
    async def scenario(editor: Editor) -> None:
        await editor.open("visit.yaml", OVER)
        editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"cptlint": {"ignore": ["NOPE1"]}}))
        assert "UNT001" in [d.code for d in await editor.next_diagnostics(editor.uri("visit.yaml"))]
        assert editor.messages == ['cptlint: settings: --ignore: "NOPE1" selects no rule']

    in_editor(tmp_path, scenario)


def test_initialization_options_are_settings_too(tmp_path):
    async def scenario(editor: Editor) -> None:
        found = [d.code for d in await editor.open("visit.yaml", OVER)]
        assert "UNT001" not in found and found == [c for c in found if c.startswith("UNT")]

    in_editor(tmp_path, scenario, {"select": ["UNT"], "ignore": ["UNT001"]})


def test_the_nearest_configuration_applies_as_on_the_command_line(tmp_path):
    (tmp_path / "strict").mkdir()
    (tmp_path / "strict" / ".cptlint.toml").write_text('ignore = ["UNT001"]\n')

    async def scenario(editor: Editor) -> None:
        assert "UNT001" in [d.code for d in await editor.open("visit.yaml", OVER)]
        assert "UNT001" not in [d.code for d in await editor.open("strict/visit.yaml", OVER)]

    in_editor(tmp_path, scenario)


def test_a_claim_file_is_linted_as_the_cli_lints_it(tmp_path):
    claim = (Path(__file__).parent / "fixtures" / "claims" / "pair-without-bypass.837").read_text()

    async def scenario(editor: Editor) -> None:
        [found] = await editor.open("pair.837", claim)
        assert (found.code, found.range.start.line, found.range.start.character) == ("MOD001", line_of(claim, "SV1*HC:97530"), 7)

    in_editor(tmp_path, scenario)


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    at = lambda p: offsets[p.line] + p.character  # noqa: E731
    for edit in sorted(edits, key=lambda e: at(e.range.start), reverse=True):
        text = text[: at(edit.range.start)] + edit.new_text + text[at(edit.range.end) :]
    return text


async def quick_fixes(editor: Editor, name: str, line: int) -> list[types.CodeAction]:
    return await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=editor.uri(name)),
            range=types.Range(start=types.Position(line, 0), end=types.Position(line, 0)),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.QuickFix]),
        )
    )


def test_the_finding_under_the_cursor_offers_its_fix_and_a_disable_comment(tmp_path):
    under = OVER.replace("minutes: 15", "minutes: 30", 1).replace("units: 3", "units: 1", 1)  # UNT004: fewer units than 30 minutes allow

    async def scenario(editor: Editor) -> None:
        await editor.open("over.yaml", OVER)
        line = line_of(OVER, "units: 3")
        titles = {a.title: a for a in await quick_fixes(editor, "over.yaml", line)}
        [fix] = [a for t, a in titles.items() if "disable" not in t and a.diagnostics[0].code == "UNT001"]
        assert fix.is_preferred and "unsafe" not in fix.title
        assert "units: 1\n" in apply_edits(OVER, fix.edit.changes[editor.uri("over.yaml")])
        disable = titles["cptlint: disable UNT001 on this line"]
        silenced = apply_edits(OVER, disable.edit.changes[editor.uri("over.yaml")])
        assert silenced.splitlines()[line].endswith("units: 3  # cptlint: disable=UNT001")
        editor.change("over.yaml", 2, silenced)
        assert "UNT001" not in [d.code for d in await editor.next_diagnostics(editor.uri("over.yaml"))]

        found = await editor.open("under.yaml", under)
        [unt004] = [d for d in found if d.code == "UNT004"]
        [unsafe] = [a for a in await quick_fixes(editor, "under.yaml", unt004.range.start.line) if "disable" not in a.title]
        assert "(unsafe: check it)" in unsafe.title and not unsafe.is_preferred

    in_editor(tmp_path, scenario)


def test_a_json_document_is_offered_no_comment(tmp_path):
    import json

    from ruamel.yaml import YAML

    text = json.dumps(YAML(typ="safe").load(OVER), indent=2, default=str)  # the same visit, as JSON

    async def scenario(editor: Editor) -> None:
        found = await editor.open("over.json", text)
        [unt001] = [d for d in found if d.code == "UNT001"]
        titles = [a.title for a in await quick_fixes(editor, "over.json", unt001.range.start.line)]
        assert titles and not any("disable" in t for t in titles)

    in_editor(tmp_path, scenario)


def test_hover_and_completion_of_rule_codes_and_rules_data_names(tmp_path):
    text = OVER.replace("units: 3\n", "units: 3  # cptlint: disable=UNT001\n", 1) + "expect: [MOD005]\n"
    disable_line = line_of(text, "disable=UNT001")
    expect_line = line_of(text, "expect: [MOD005]")
    regions_line = line_of(text, "regions:")

    async def scenario(editor: Editor) -> None:
        await editor.open("visit.yaml", text)
        uri = editor.uri("visit.yaml")

        async def hover(line: int, character: int):
            return await editor.client.text_document_hover_async(
                types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line, character))
            )

        async def complete(line: int, character: int, where: str = uri) -> list[str]:
            found = await editor.client.text_document_completion_async(
                types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=where), position=types.Position(line, character))
            )
            return [item.label for item in found.items]

        shown = await hover(disable_line, text.splitlines()[disable_line].index("UNT001") + 2)
        assert shown.contents.value.startswith("**UNT001 units-exceed-minutes**") and "## Source" in shown.contents.value
        assert "MOD005 therapy-modifier" in (await hover(expect_line, text.splitlines()[expect_line].index("MOD005"))).contents.value
        assert await hover(line_of(text, 'code: "97140"'), 12) is None  # a CPT code is not a rule code
        assert "UNT001" in await complete(disable_line, len(text.splitlines()[disable_line]))
        assert "cervical" in await complete(regions_line, text.splitlines()[regions_line].index("[") + 1)
        techniques_line = line_of(text, "techniques:")
        assert "joint_mobilization" in await complete(techniques_line, text.splitlines()[techniques_line].index("[") + 1)
        assert await complete(line_of(text, "patient:"), 5) == []

        sidecar = editor.uri("visit.837.expect")
        editor.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=sidecar, language_id="plaintext", version=1, text="MOD0\n"))
        )
        assert "MOD001" in await complete(0, 4, sidecar)
        await asyncio.sleep(0.3)
        assert sidecar not in editor.diagnostics  # expectations are not an encounter file

    in_editor(tmp_path, scenario)


def test_fix_on_save_returns_the_safe_fixes_before_the_save(tmp_path):
    async def scenario(editor: Editor) -> None:
        await editor.open("save.yaml", OVER)
        saving = types.WillSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=editor.uri("save.yaml")), reason=types.TextDocumentSaveReason.Manual
        )
        assert not await editor.client.text_document_will_save_wait_until_async(saving)  # off unless asked
        editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"cptlint": {"fixOnSave": True}}))
        await editor.next_diagnostics(editor.uri("save.yaml"))
        [edit] = await editor.client.text_document_will_save_wait_until_async(saving)
        assert "units: 1\n" in edit.new_text and "units: 3\n" not in edit.new_text

    in_editor(tmp_path, scenario)


def test_the_fuzz_inputs_of_the_hardening_tests_leave_the_server_running(tmp_path):
    """Seeds of every format, mutated as tests/test_hardening.py mutates them (a fixed sample)."""
    import random

    from tests.test_hardening import CLAIM_NASTY, CLAIM_SEEDS, NASTY, SEEDS

    rng = random.Random(18)
    documents = []
    for _ in range(40):
        name, content = rng.choice(SEEDS + CLAIM_SEEDS)
        for _ in range(rng.randint(1, 4)):
            at = rng.randint(0, len(content))
            piece = rng.choice(NASTY + CLAIM_NASTY)
            content = content[:at] + piece + content[at + rng.choice([0, len(piece), 8]) :]
        documents.append((name, content.decode("utf-8", "surrogateescape")))

    async def scenario(editor: Editor) -> None:
        for n, (name, text) in enumerate(documents):
            await editor.open(f"fuzz{n}-{name}", text)
        assert "UNT001" in [d.code for d in await editor.open("after.yaml", OVER)]  # still answering

    in_editor(tmp_path, scenario)



def test_positions_are_counted_in_utf16_as_the_protocol_counts_them(tmp_path):
    """An emoji is one character to cptlint and two UTF-16 units to an LSP client."""
    text = '{"id": "\U0001F600", "date": "2026-03-14", "payer": "medicare", "patient": "P", "provider": {"npi": "1234567893", "discipline": "PT"}, "diagnoses": ["M54.50"], "services": [{"code": "97110", "units": 3, "minutes": 15, "modifiers": ["GP"], "diagnosis_pointers": [1]}]}\n'

    async def scenario(editor: Editor) -> None:
        [found] = [d for d in await editor.open("emoji.json", text) if d.code == "UNT001"]
        in_characters = text.index('"units": 3') + len('"units": ')  # 0-based, in characters
        assert found.range.start.character == in_characters + 1  # the emoji before it is two UTF-16 units

    in_editor(tmp_path, scenario)

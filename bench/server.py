"""How fast `cptlint server` answers a change: a 200-encounter YAML file is opened, then one line
is changed again and again, and each change is timed from the notification sent to the
diagnostics received (the 30 ms pause the server waits for more typing included).

    python bench/server.py [--changes 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ENCOUNTER = """\
  - id: ENC-{n}
    date: 2026-03-{day:02d}
    payer: medicare
    patient: P-{n}
    provider: {{npi: "1234567893", discipline: PT}}
    diagnoses: [M54.50]
    services:
      - {{code: "97140", units: {units}, minutes: 15, modifiers: [GP], regions: [lumbar], techniques: [joint_mobilization], diagnosis_pointers: [1], response: Better, goal: Walk}}
      - {{code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}}
"""


def document(units_of_first: int) -> str:
    return "encounters:\n" + "".join(ENCOUNTER.format(n=n, day=1 + n % 28, units=units_of_first if n == 0 else 1) for n in range(200))


async def measure(changes: int) -> list[float]:
    client = LanguageClient("bench", "1")
    arrived: asyncio.Queue = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        arrived.put_nowait(time.perf_counter())

    root = Path(tempfile.mkdtemp(prefix="cptlint-server-bench-"))
    uri = (root / "visits.yaml").as_uri()
    await client.start_io(sys.executable, "-m", "cptlint", "server")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=root.as_uri()))
    client.initialized(types.InitializedParams())
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=document(1))))
    await arrived.get()
    times = []
    for version in range(2, changes + 2):
        text = document(2 if version % 2 else 1)
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        times.append(await arrived.get() - sent)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=30)
    args = parser.parse_args()
    times = asyncio.run(measure(args.changes))
    print(f"a change to one line of a 200-encounter file, answered in: median {statistics.median(times) * 1000:.0f} ms, "
          f"slowest {max(times) * 1000:.0f} ms ({args.changes} changes; target < 100 ms)")


if __name__ == "__main__":
    main()

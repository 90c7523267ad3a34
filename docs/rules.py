"""Write docs/rules/: a page a rule (what `cptlint rule CODE` prints) and an index, the pages the
language server's diagnostics link to. Run after a rule's documentation changes:

    python docs/rules.py

tests/test_rule_docs.py fails while a page differs from its rule.
"""

from __future__ import annotations

from pathlib import Path

from cptlint.checks import REGISTRY

FOLDER = Path(__file__).parent / "rules"


def pages() -> dict[str, str]:
    """Each file's name and text."""
    found = {f"{code}.md": rule.page() + "\n" for code, rule in sorted(REGISTRY.items())}
    index = ["# cptlint rules", "", "| code | name | severity | what it checks |", "|---|---|---|---|"]
    index += [f"| [{code}]({code}.md) | {rule.name} | {rule.severity} | {rule.summary()} |" for code, rule in sorted(REGISTRY.items())]
    found["README.md"] = "\n".join(index) + "\n"
    return found


def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    wanted = pages()
    for stale in FOLDER.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    for name, text in wanted.items():
        (FOLDER / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

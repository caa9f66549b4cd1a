"""The documents the code and the docs point at are in the repository.

The design and its contracts are docs/architecture.md, the code habits docs/style.md: nothing
cites a document that a clone does not have, and every relative Markdown link resolves.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".git", ".aws-sam", "node_modules", "__pycache__"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".yaml", ".yml", ".json", ".txt", ".cfg", ""}
OUTSIDE = re.compile(r"\b(DESIGN|STYLE)\.md\b")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def project_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".venv")]
        for name in files:
            path = Path(folder, name)
            if path.suffix in TEXT_SUFFIXES or name == "Makefile":
                found.append(path.relative_to(ROOT))
    return sorted(found)


def test_the_architecture_and_style_documents_are_in_the_repository():
    assert "## Contracts" in (ROOT / "docs" / "architecture.md").read_text()
    assert "## The habits" in (ROOT / "docs" / "style.md").read_text()


def test_nothing_cites_a_design_or_style_document_outside_the_repository():
    citing = {
        path
        for path in project_files()
        if OUTSIDE.search((ROOT / path).read_text(encoding="utf-8", errors="replace"))
    }
    assert citing == set()


@pytest.mark.parametrize(
    "document",
    [p for p in project_files() if p.suffix == ".md"],
    ids=str,
)
def test_relative_links_resolve(document: Path):
    text = (ROOT / document).read_text(encoding="utf-8")
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL (https:, mailto:) or an anchor in the same page
        path = target.split("#", 1)[0]
        if not (ROOT / document.parent / path).exists():
            broken.append(target)
    assert broken == []

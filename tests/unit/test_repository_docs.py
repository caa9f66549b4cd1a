"""The documents the code and the docs point at are in the repository.

The design and its contracts are docs/architecture.md, the code habits docs/style.md: nothing
cites a document that a clone does not have, and every relative Markdown link resolves, down to
the heading it names (the README's per-runbook reference moved to docs/runbooks.md: a link into
a moved section must follow it).
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
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$")


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


def heading_anchors(document: Path) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped,
    spaces to hyphens, `-1`, `-2` … after a repeated one (headings in code blocks are not)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    in_code = False
    for line in document.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        heading = None if in_code else HEADING.match(line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
            anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


@pytest.mark.parametrize(
    "document",
    [p for p in project_files() if p.suffix == ".md"],
    ids=str,
)
def test_links_to_a_heading_find_it(document: Path):
    text = (ROOT / document).read_text(encoding="utf-8")
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or "#" not in target:
            continue
        path, anchor = target.split("#", 1)
        linked = ROOT / document.parent / path if path else ROOT / document
        if linked.suffix == ".md" and anchor not in heading_anchors(linked):
            broken.append(target)
    assert broken == []

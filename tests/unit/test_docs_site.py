"""The reference site covers every generated command group and every guide it lists
(``mkdocs build --strict`` in CI checks links, docstrings and the pages themselves)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_command_group_has_a_reference_page() -> None:
    client = ROOT / "src/redspec/_generated/client"
    groups = {p.stem for p in client.glob("*.py") if p.stem != "__init__"}
    pages = {p.stem for p in (ROOT / "docs/reference/commands").glob("*.md")}
    assert pages == groups, "add or remove docs/reference/commands/<group>.md (and mkdocs.yml nav)"
    nav = (ROOT / "mkdocs.yml").read_text()
    for group in groups:
        assert f"reference/commands/{group}.md" in nav, group
        text = (ROOT / f"docs/reference/commands/{group}.md").read_text()
        cls = re.search(r"^class (\w+)\(", (client / f"{group}.py").read_text(), re.M)
        assert cls and f"::: redspec._generated.client.{group}.{cls.group(1)}" in text


def test_nav_pages_exist() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in re.findall(r":\s+([\w/.-]+\.md)\s*$", nav, re.M):
        assert (ROOT / "docs" / page).is_file(), page

"""Markdown documents as the checks see them: lines, a heading tree, code blocks and links;
section names mapped to the quality bar's sections through synonyms (data/check-synonyms.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt

from opslib.catalog.loaders import DATA_DIR
from opslib.core.yamlio import read_yaml

__all__ = ["Section", "Fence", "Document", "parse", "norm_title", "section_synonyms", "canonical_section"]


@dataclass
class Section:
    level: int
    title: str
    line: int  # 1-based line of the heading
    end: int  # 1-based line after the section's last line
    children: list[Section] = field(default_factory=list)


@dataclass(frozen=True)
class Fence:
    info: str
    content: str
    line: int  # 1-based line of the opening fence


class Document:
    """A Markdown document: its lines, its heading tree and its code blocks."""

    def __init__(self, text: str, path: Path | None = None):
        self.text = text
        self.path = path
        self.lines = text.splitlines()
        tokens = MarkdownIt("commonmark").enable("table").parse(_blank_front_matter(self.lines))
        self.sections: list[Section] = []
        self.fences: list[Fence] = []
        self.links: list[tuple[str, int]] = []
        for i, tok in enumerate(tokens):
            if tok.type == "heading_open" and tok.map:
                self.sections.append(Section(int(tok.tag[1]), tokens[i + 1].content.strip(), tok.map[0] + 1, 0))
            elif tok.type in ("fence", "code_block") and tok.map:
                self.fences.append(Fence(tok.info.strip(), tok.content, tok.map[0] + 1))
            elif tok.type == "inline" and tok.children:
                for child in tok.children:
                    if child.type == "link_open":
                        self.links.append((str(child.attrs.get("href", "")), (tok.map[0] + 1) if tok.map else 0))
        last = len(self.lines) + 1
        for idx, sec in enumerate(self.sections):
            nxt = next((s.line for s in self.sections[idx + 1:] if s.level <= sec.level), last)
            sec.end = nxt
            sec.children = [s for s in self.sections[idx + 1:] if s.line < nxt and s.level == sec.level + 1]

    @property
    def section_level(self) -> int:
        """The heading level of the document's main sections (H2 under a single H1 title)."""
        levels = [s.level for s in self.sections]
        if not levels:
            return 2
        top = min(levels)
        if levels.count(top) == 1 and any(lv > top for lv in levels):
            return min(lv for lv in levels if lv > top)
        return top

    def find(self, name: str, within: Section | None = None) -> Section | None:
        """First section whose title is `name` (case-insensitive, ignoring numbering); failing
        that, the first main-level section whose title is a synonym of `name`
        (data/check-synonyms.yaml: Release → Deployment, Diagnosis → Troubleshooting, …)."""
        pool = self.sections if within is None else [s for s in self.sections if within.line < s.line < within.end]
        for sec in pool:
            if norm_title(sec.title) == name.lower():
                return sec
        if within is None:
            level = self.section_level
            for sec in pool:
                if sec.level == level and canonical_section(sec.title) == name:
                    return sec
        return None

    def body(self, sec: Section) -> str:
        return "\n".join(self.lines[sec.line - 1 : sec.end - 1])

    def fences_in(self, sec: Section) -> list[Fence]:
        return [f for f in self.fences if sec.line < f.line < sec.end]

    def subsections(self, sec: Section) -> list[Section]:
        return [s for s in self.sections if sec.line < s.line < sec.end]


def norm_title(title: str) -> str:
    return re.sub(r"^[\d.\s]+", "", re.sub(r"[*_`]", "", title)).strip().lower()


def _blank_front_matter(lines: list[str]) -> str:
    """The text with a leading YAML front matter block blanked (line numbers are kept), so
    `title: …` above a `---` is not read as a heading."""
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        if end is not None:
            return "\n" * (end + 1) + "\n".join(lines[end + 1:])
    return "\n".join(lines)


@cache
def section_synonyms() -> dict[str, tuple[str, ...]]:
    raw = read_yaml(DATA_DIR / "check-synonyms.yaml", lines=False)["sections"]
    return {canon: tuple(sorted((w.lower() for w in words), key=len, reverse=True)) for canon, words in raw.items()}


def canonical_section(title: str) -> str | None:
    """The quality-bar section a heading stands for ("Rollout to prod" → "Deployment"), or None."""
    norm = re.sub(r"[^\w\s/&-]", "", norm_title(title)).strip()
    for canon, words in section_synonyms().items():
        for word in words:
            if norm == word or re.match(rf"{re.escape(word)}\b", norm):
                return canon
    return None


def parse(text: str, path: Path | None = None) -> Document:
    return Document(text, path)

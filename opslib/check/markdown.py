"""Markdown documents as the checks see them: lines, a heading tree, code blocks and links;
section names mapped to the quality bar's sections through synonyms (data/check-synonyms.yaml)."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
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
        # the heading tree in one pass (a stack of open sections, levels strictly increasing): a
        # section ends where the next heading of its level or above starts; its children are the
        # headings one level below it in between
        open_: list[Section] = []
        for sec in self.sections:
            while open_ and open_[-1].level >= sec.level:
                open_.pop().end = sec.line
            if open_ and open_[-1].level == sec.level - 1:
                open_[-1].children.append(sec)
            open_.append(sec)
        for sec in open_:
            sec.end = len(self.lines) + 1

    @cached_property
    def section_level(self) -> int:
        """The heading level of the document's main sections (H2 under a single H1 title)."""
        levels = [s.level for s in self.sections]
        if not levels:
            return 2
        top = min(levels)
        if levels.count(top) == 1 and any(lv > top for lv in levels):
            return min(lv for lv in levels if lv > top)
        return top

    # Lookups stay fast on a document of 100,000 headings: titles are normalised once, and the
    # sections or code blocks between two lines are found by bisection (sorted by line).
    @cached_property
    def _section_lines(self) -> list[int]:
        return [s.line for s in self.sections]

    @cached_property
    def _fence_lines(self) -> list[int]:
        return [f.line for f in self.fences]

    @cached_property
    def _norms(self) -> list[str]:
        return [norm_title(s.title) for s in self.sections]

    @cached_property
    def _main_canons(self) -> list[tuple[Section, str]]:
        """(section, the quality-bar section it stands for) for the main-level sections that stand for one."""
        level = self.section_level
        return [(s, c) for s in self.sections if s.level == level and (c := canonical_section(s.title)) is not None]

    def _range(self, sec: Section) -> range:
        """Indexes of the sections strictly inside `sec`."""
        return range(bisect_right(self._section_lines, sec.line), bisect_left(self._section_lines, sec.end))

    def find(self, name: str, within: Section | None = None) -> Section | None:
        """First section whose title is `name` (case-insensitive, ignoring numbering); failing
        that, the first main-level section whose title is a synonym of `name`
        (data/check-synonyms.yaml: Release → Deployment, Diagnosis → Troubleshooting, …)."""
        indexes = range(len(self.sections)) if within is None else self._range(within)
        wanted = name.lower()
        for i in indexes:
            if self._norms[i] == wanted:
                return self.sections[i]
        if within is None:
            return next((sec for sec, canon in self._main_canons if canon == name), None)
        return None

    def body(self, sec: Section) -> str:
        return "\n".join(self.lines[sec.line - 1 : sec.end - 1])

    def fences_in(self, sec: Section) -> list[Fence]:
        return self.fences[bisect_right(self._fence_lines, sec.line):bisect_left(self._fence_lines, sec.end)]

    def subsections(self, sec: Section) -> list[Section]:
        r = self._range(sec)
        return self.sections[r.start:r.stop]


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


@cache
def _synonym_patterns() -> list[tuple[str, frozenset[str], re.Pattern]]:
    """Per section: its synonyms, and one regex for "starts with a synonym as a whole word"
    (longest first, as the synonyms are sorted)."""
    return [(canon, frozenset(words), re.compile("|".join(rf"{re.escape(w)}\b" for w in words)))
            for canon, words in section_synonyms().items()]


@lru_cache(maxsize=4096)
def canonical_section(title: str) -> str | None:
    """The quality-bar section a heading stands for ("Rollout to prod" → "Deployment"), or None."""
    norm = re.sub(r"[^\w\s/&-]", "", norm_title(title)).strip()
    for canon, words, starts in _synonym_patterns():
        if norm in words or starts.match(norm):
            return canon
    return None


def parse(text: str, path: Path | None = None) -> Document:
    return Document(text, path)

"""Shell code as the truth rules see it: a block parsed by tree-sitter-bash into simple commands.

    parse_script(text)            -> Script    cached by text; never raises
    shell_blocks(doc)             -> [Block]   the shell code of a Markdown document (bash/sh/shell/console blocks)
    inline_shell(doc, clis)       -> [Block]   `tool …` spans in prose whose first word is a known CLI

A `Script` holds every simple command (pipes, `&&`/`||`, `$(…)`, here-documents, line
continuations, loops and conditionals all unfolded) with its words as the shell passes them
(quotes removed; a word holding an expansion keeps the expansion's text and is marked dynamic),
the variables the code sets and uses, and the lines tree-sitter could not parse.

Why tree-sitter-bash and not bashlex: it parses the whole bash grammar (`[[ ]]`, `$(( ))`,
`case`, functions, here-documents) with error recovery, so one broken line is reported as
that line and the rest of the block is still checked; and it is C, about 30 times faster
than bashlex on our documents (0.04 s against 1.3 s for the examples' 971 blocks), which
matters for `opslib render`'s time budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from opslib.check.markdown import Document

__all__ = ["Word", "Command", "Script", "Block", "parse_script", "shell_blocks", "inline_shell", "SHELL_INFOS"]

SHELL_INFOS = frozenset({"bash", "sh", "shell", "console", "zsh", "shell-session"})
_PARSER = Parser(Language(tree_sitter_bash.language()))
# read's options that take a value (the variable names come after them)
_READ_VALUE_OPTS = set("adinNptu")


@dataclass(frozen=True)
class Word:
    value: str  # as the command receives it (quotes removed); an expansion keeps its text
    dynamic: bool  # holds an expansion or a substitution: its value is known only at run time


@dataclass(frozen=True)
class Command:
    words: tuple[Word, ...]  # argv: words[0] is the command name
    line: int  # 0-based line of the block where the command starts
    text: str  # the command's source text
    assigns: tuple[str, ...] = ()  # VAR=value prefixes (the command's own environment)
    substituted: bool = False  # inside $(…) or `…`
    piped: bool = False  # a stage of a pipeline with more than one stage
    looped: bool = False  # in the body of a for / while / until loop
    background: bool = False  # run with `&` (alone, as a pipeline stage or redirected)

    @property
    def name(self) -> str:
        return self.words[0].value if self.words else ""

    @property
    def argv(self) -> list[str]:
        return [w.value for w in self.words]


@dataclass(frozen=True)
class Script:
    commands: tuple[Command, ...]
    sets: tuple[tuple[str, int], ...]  # (variable, line) set by an assignment, export, read, for, …
    uses: tuple[tuple[str, int], ...]  # (variable, line) expanded without a default
    errors: tuple[int, ...]  # lines tree-sitter could not parse


@dataclass(frozen=True)
class Block:
    """Shell code of a document: `line` is the document line (1-based) of the code's first line."""

    code: str
    line: int
    inline: bool = False


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


def _word(node: Node) -> Word:
    kind = node.type
    if kind == "raw_string":
        return Word(_text(node)[1:-1], False)
    if kind == "ansi_c_string":
        return Word(_text(node)[2:-1], False)
    if kind in ("word", "number"):
        return Word(re.sub(r"\\(.)", r"\1", _text(node)), False)
    if kind == "string":
        parts, dyn = [], False
        for c in node.named_children:
            if c.type == "string_content":
                parts.append(_text(c))
            else:
                parts.append(_text(c))
                dyn = True
        return Word("".join(parts) if node.named_children else "", dyn)
    if kind == "concatenation":
        words = [_word(c) for c in node.named_children]
        return Word("".join(w.value for w in words), any(w.dynamic for w in words))
    return Word(_text(node), True)


_LOOPS = ("for_statement", "c_style_for_statement", "while_statement")


class _Walker:
    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.sets: list[tuple[str, int]] = []
        self.uses: list[tuple[str, int]] = []
        self.errors: list[int] = []
        self.joined: list[int] = []  # rows where tree-sitter ran a command on into the next line (no `\` before it)
        self.lines: list[bytes] = []
        self.loops = 0  # loop bodies the walk is inside

    def walk(self, node: Node, substituted: bool = False, piped: bool = False) -> None:
        kind = node.type
        if kind == "ERROR" or node.is_missing:
            self.errors.append(node.start_point[0])
        if kind == "command":
            self._command(node, substituted, piped)
        elif kind == "variable_assignment":
            name = node.child_by_field_name("name")
            if name is not None:
                self.sets.append((_text(name), node.start_point[0]))
        elif kind == "declaration_command":
            for c in node.named_children:
                if c.type == "variable_name":
                    self.sets.append((_text(c), c.start_point[0]))
        elif kind == "for_statement":
            var = node.child_by_field_name("variable")
            if var is not None:
                self.sets.append((_text(var), var.start_point[0]))
        elif kind in ("simple_expansion", "expansion"):
            self._use(node)
        elif kind == "raw_string":
            return
        elif kind == "do_group" and node.parent is not None and node.parent.type in _LOOPS:
            self.loops += 1
            for c in node.children:
                self.walk(c, substituted, piped)
            self.loops -= 1
            return
        elif kind == "pipeline":
            stages = [c for c in node.named_children]
            for c in stages:
                self.walk(c, substituted, len(stages) > 1)
            return
        sub = substituted or kind in ("command_substitution", "process_substitution")
        for c in node.children:
            if kind == "command" and c.type != "command_substitution" and c.type not in ("string", "concatenation", "expansion",
                                                                                         "simple_expansion", "process_substitution",
                                                                                         "variable_assignment", "arithmetic_expansion"):
                continue
            self.walk(c, sub, piped if kind == "command" else False)

    def _use(self, node: Node) -> None:
        names = [c for c in node.named_children if c.type == "variable_name"]
        if not names:
            return
        ops = {_text(c) for c in node.children if not c.is_named}
        if ops & {":-", "-", ":=", "=", ":?", "?", ":+", "+"}:
            return  # a default, an error message or an alternative: not an unset use
        self.uses.append((_text(names[0]), node.start_point[0]))

    def _command(self, node: Node, substituted: bool, piped: bool) -> None:
        assigns: list[str] = []
        words: list[Word] = []
        prev_row = node.start_point[0]
        for c in node.named_children:
            if c.type == "variable_assignment":
                name = c.child_by_field_name("name")
                assigns.append(_text(name) if name is not None else "")
            elif c.type == "command_name":
                words.append(_word(c.named_children[0]) if c.named_children else Word(_text(c), False))
            elif c.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                continue
            elif words:
                if c.start_point[0] > prev_row and not self.lines[c.start_point[0] - 1].rstrip().endswith(b"\\"):
                    self.joined.append(c.start_point[0])
                words.append(_word(c))
            prev_row = c.end_point[0]
        if not words:
            return
        outer = node
        while outer.parent is not None and outer.parent.type in ("pipeline", "redirected_statement"):
            outer = outer.parent
        background = outer.next_sibling is not None and outer.next_sibling.type == "&"
        cmd = Command(tuple(words), node.start_point[0], _text(node), tuple(assigns), substituted, piped, self.loops > 0, background)
        self.commands.append(cmd)
        if cmd.name in ("read", "mapfile", "readarray", "getopts"):
            self.sets += [(v, cmd.line) for v in _read_targets(cmd)]


def _read_targets(cmd: Command) -> list[str]:
    out, skip = [], False
    for w in cmd.words[1:]:
        if skip:
            skip = False
            continue
        if w.value.startswith("-") and len(w.value) > 1:
            opts = w.value[1:]
            last = next((i for i, ch in enumerate(opts) if ch in _READ_VALUE_OPTS), None)
            if last is not None and last == len(opts) - 1:
                skip = True
            if "a" in opts and last is not None and opts[last] == "a" and not skip:
                out.append(opts[last + 1:])
            continue
        if re.fullmatch(r"[A-Za-z_]\w*", w.value):
            out.append(w.value)
    return out


# a placeholder of a hand-written document (`--context <CTX>`, `<pod-name>`): a word to fill in, not
# two redirections (the placeholder rules of opslib check report it)
_PLACEHOLDER = re.compile(r"<([A-Za-z][\w.:/-]*)>")


_COMMENT_LINE = re.compile(r"^[ \t]*#(?!!).*$", re.M)


@lru_cache(maxsize=8192)
def parse_script(text: str) -> Script:
    """Parse shell code into simple commands, variables set and used, and unparsable lines."""
    text = _PLACEHOLDER.sub(lambda m: "_" + re.sub(r"\W", "_", m.group(1)) + "_", text)
    # comment lines run nothing; blanked (line numbers kept), as tree-sitter-bash joins a comment line
    # after a pipeline to the next command (`a | tail -n 5`, `# note`, `kubectl …` read as one `tail`)
    text = _COMMENT_LINE.sub("", text)
    return _parse(text)


def _parse(text: str, offset: int = 0) -> Script:
    data = text.encode("utf-8")
    tree = _PARSER.parse(data)
    walker = _Walker()
    walker.lines = data.split(b"\n")
    walker.walk(tree.root_node)
    if walker.joined:
        # tree-sitter-bash can run a pipeline's last command on into the next lines when a redirection
        # ends the text (`a | tail -n 5`, `b`, `c 2>/dev/null`): parse the two parts on their own
        row = min(walker.joined)
        lines = text.split("\n")
        head, tail = _parse("\n".join(lines[:row]), offset), _parse("\n".join(lines[row:]), offset + row)
        return Script(head.commands + tail.commands, head.sets + tail.sets, head.uses + tail.uses, head.errors + tail.errors)
    return Script(tuple(replace(c, line=c.line + offset) for c in walker.commands), tuple((v, n + offset) for v, n in walker.sets),
                  tuple((v, n + offset) for v, n in walker.uses), tuple(sorted({e + offset for e in walker.errors})))


def _console_code(content: str) -> str:
    """The commands of a console transcript (`$ cmd` lines, with their continuations); other lines
    are output and become blank, so line numbers are kept."""
    out, cont = [], False
    for line in content.splitlines():
        if cont or line.startswith("$ "):
            code = line[2:] if line.startswith("$ ") and not cont else line
            out.append(code)
            cont = code.rstrip().endswith("\\")
        else:
            out.append("")
    return "\n".join(out)


def shell_blocks(doc: Document) -> list[Block]:
    """The shell code of every bash/sh/shell/console block (a console block's commands only)."""
    out = []
    for f in doc.fences:
        info = f.info.split()[0].lower() if f.info else ""
        if info not in SHELL_INFOS:
            continue
        code = _console_code(f.content) if info in ("console", "shell-session") else f.content
        out.append(Block(code, f.line + 1))
    return out


_INLINE = re.compile(r"`([^`\n]+)`")


def inline_shell(doc: Document, clis: frozenset[str]) -> list[Block]:
    """Inline code spans of the prose that are commands of a known CLI (`heroku ps -a app`)."""
    out, in_fence = [], False
    fence_lines: set[int] = set()
    for f in doc.fences:
        fence_lines.update(range(f.line, f.line + f.content.count("\n") + 2))
    for n, line in enumerate(doc.lines, 1):
        if n in fence_lines or in_fence:
            continue
        for m in _INLINE.finditer(line):
            span = m.group(1).strip()
            first = span.split(" ", 1)[0]
            if " " in span and first in clis:
                out.append(Block(span, n, inline=True))
    return out

"""Where a story's names are declared and used, read from its YAML with positions.

The language server (lsp.py) answers definition, references, rename, hover, symbols and
completion from this index; it needs no pygls, so it is tested on its own too. Positions here
count from 0 (lines and characters), as the Language Server Protocol does.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..engine import expr as ex
from ..engine import yamlsrc
from ..engine.yamlsrc import Map, Seq

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_EXPR_TOKEN = re.compile(
    r"'[^'\n]*'|\"[^\"\n]*\"|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(\s*\()?"
)
_KEYWORDS = {"and", "or", "not", "true", "false", "turn"}
_SPECIAL = ("<hub>", "<end-turn>")


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of one line of a story file."""

    file: str  # relative to the story folder, with /
    line: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Ref:
    """A name as written: a declaration or a use of a node, variable or character.

    `name` is a node's full id, a variable's declared name (for a character variable, its name
    without the character: `trust` in `becky.trust`) or a character's id. `edit` is the part
    a rename replaces (the last part of a node reference written in full).
    """

    kind: str  # node, var, char
    name: str
    span: Span
    edit: Span
    decl: bool = False
    via: Any = None  # for a goto: the choice (or random or branch entry) it belongs to


@dataclass
class NodeDecl:
    """A node as written: its full id, scene, where its name is, and its YAML body."""

    id: str
    scene: str
    span: Span
    body: Any
    event: bool = False


@dataclass
class VarDecl:
    """A declared variable; `per_character` for one under `character_variables`."""

    name: str
    span: Span
    body: Any
    per_character: bool = False


@dataclass
class CharDecl:
    """A character declared in story.yaml."""

    id: str
    span: Span
    body: Any


@dataclass
class StoryIndex:
    """Every declaration and use of a name in a story's files (those that parse as YAML)."""

    root: Path
    texts: dict[str, str] = field(default_factory=dict)
    scenes: dict[str, str] = field(default_factory=dict)  # file -> scene id
    nodes: dict[str, NodeDecl] = field(default_factory=dict)
    variables: dict[str, VarDecl] = field(default_factory=dict)
    characters: dict[str, CharDecl] = field(default_factory=dict)
    refs: dict[str, list[Ref]] = field(default_factory=dict)  # file -> refs in order
    _lines: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def line(self, file: str, line: int) -> str:
        """One line of a file's text ('' past the end)."""
        lines = self._lines.get(file)
        if lines is None:
            lines = self._lines[file] = self.texts.get(file, "").split("\n")
        return lines[line] if 0 <= line < len(lines) else ""

    def ref_at(self, file: str, line: int, character: int) -> Ref | None:
        """The name at a position, if there is one."""
        for ref in self.refs.get(file, ()):
            s = ref.span
            if s.line == line and s.start <= character <= s.end:
                return ref
        return None

    def references(self, kind: str, name: str) -> list[Ref]:
        """Every declaration and use of one name, in file order."""
        return [r for refs in self.refs.values() for r in refs if r.kind == kind and r.name == name]

    def declaration(self, kind: str, name: str) -> Span | None:
        """Where a node, variable or character is declared."""
        found: NodeDecl | VarDecl | CharDecl | None
        if kind == "node":
            found = self.nodes.get(name)
        elif kind == "var":
            found = self.variables.get(name)
        else:
            found = self.characters.get(name)
        return found.span if found is not None else None

    def node_around(self, file: str, line: int) -> NodeDecl | None:
        """The node whose YAML a line of a scene file is in."""
        best = None
        for node in self.nodes.values():
            if (
                node.span.file == file
                and node.span.line <= line
                and (best is None or node.span.line > best.span.line)
            ):
                best = node
        return best

    def full_variables(self) -> list[str]:
        """Every variable name an expression can use (character variables with each character)."""
        out: list[str] = []
        for v in self.variables.values():
            if v.per_character:
                out.extend(f"{c}.{v.name}" for c in self.characters)
            else:
                out.append(v.name)
        return out


# -- building the index ------------------------------------------------------------------------


class _File:
    """One file's text, for turning positions in its YAML values into spans."""

    def __init__(self, rel: str, text: str) -> None:
        self.rel = rel
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def offset(self, line: int, col: int) -> int:
        """The offset of a 1-based line and column."""
        if line - 1 >= len(self.starts):
            return len(self.text)
        return self.starts[line - 1] + col - 1

    def span(self, offset: int, length: int) -> Span:
        line = bisect.bisect_right(self.starts, offset) - 1
        start = offset - self.starts[line]
        return Span(self.rel, line, start, start + length)

    def find(self, word: str, offset: int) -> int:
        """Where `word` (a whole name) next occurs from an offset, or -1."""
        m = re.compile(r"(?<![A-Za-z0-9_.])" + re.escape(word) + r"(?![A-Za-z0-9_])").search(
            self.text, offset
        )
        return m.start() if m else -1


def _scene_of(rel: str, doc: Map) -> str:
    scene = doc.get("scene")
    if isinstance(scene, str):
        return scene
    return ".".join(PurePosixPath(rel).with_suffix("").parts)


def _value_at(container: Any, key: Any) -> tuple[int, int]:
    if isinstance(container, Map):
        p = container.pos.get(key)
        return (p[2], p[3]) if p else (container.line, container.col)
    if isinstance(container, Seq) and isinstance(key, int) and key < len(container.pos):
        return container.pos[key][:2]
    return (1, 1)


class _Indexer:
    def __init__(self, root: Path, texts: Mapping[str, str]) -> None:
        self.index = StoryIndex(root, dict(texts))
        self.docs: list[tuple[_File, Map]] = []
        for rel, text in texts.items():
            try:
                doc = yamlsrc.read(text.encode("utf-8"))
            except (yamlsrc.YamlProblem, RecursionError):
                continue
            if isinstance(doc, Map):
                self.docs.append((_File(rel, text), doc))
        self.out: list[Ref] = []
        self.file: _File = _File("", "")
        self.scene = ""

    def build(self) -> StoryIndex:
        idx = self.index
        for f, doc in self.docs:
            self.file = f
            if f.rel == "story.yaml":
                chars = doc.get("characters")
                if isinstance(chars, Map):
                    for cid in chars:
                        idx.characters[cid] = CharDecl(cid, self._key_span(chars, cid), chars[cid])
                for key in ("variables", "character_variables"):
                    self._declare(doc.get(key), key == "character_variables")
            else:
                scene = idx.scenes[f.rel] = _scene_of(f.rel, doc)
                self._declare(doc.get("variables"), False)
                nodes = doc.get("nodes")
                if isinstance(nodes, Map):
                    for name, body in nodes.items():
                        full = f"{scene}.{name}"
                        if full not in idx.nodes:
                            idx.nodes[full] = NodeDecl(
                                full,
                                scene,
                                self._key_span(nodes, name),
                                body,
                                isinstance(body, Map) and "event" in body,
                            )
        self.plain = {v.name for v in idx.variables.values() if not v.per_character}
        self.per_char = {v.name for v in idx.variables.values() if v.per_character}
        for f, doc in self.docs:
            self.file, self.out = f, []
            if f.rel == "story.yaml":
                self.scene = ""
                self._story(doc)
            else:
                self.scene = idx.scenes[f.rel]
                self._scene(doc)
            idx.refs[f.rel] = sorted(self.out, key=lambda r: (r.span.line, r.span.start))
        return idx

    # -- declarations --------------------------------------------------------------------
    def _key_span(self, m: Map, key: str) -> Span:
        p = m.pos.get(key)
        line, col = (p[0], p[1]) if p else (m.line, m.col)
        offset = self.file.offset(line, col)
        if self.file.text[offset : offset + 1] in ("'", '"'):
            offset += 1
        return self.file.span(offset, len(key))

    def _declare(self, decls: Any, per_character: bool) -> None:
        if not isinstance(decls, Map):
            return
        for name, body in decls.items():
            if name not in self.index.variables:
                self.index.variables[name] = VarDecl(name, self._key_span(decls, name), body, per_character)

    # -- uses ----------------------------------------------------------------------------
    def _add(
        self, kind: str, name: str, span: Span, edit: Span | None = None, decl: bool = False, via: Any = None
    ) -> None:
        self.out.append(Ref(kind, name, span, edit or span, decl, via))

    def _story(self, doc: Map) -> None:
        idx = self.index
        for cid, c in idx.characters.items():
            self._add("char", cid, c.span, decl=True)
            if isinstance(c.body, Map) and isinstance(c.body.get("initial"), Map):
                initial = c.body["initial"]
                for name in initial:
                    if name in self.per_char:
                        self._add("var", name, self._key_span(initial, name))
        for key in ("variables", "character_variables"):
            decls = doc.get(key)
            if isinstance(decls, Map):
                for name in decls:
                    v = idx.variables.get(name)
                    if v is not None and v.span.file == "story.yaml":
                        self._add("var", name, v.span, decl=True)
        self._target(doc, "start")
        self._strategies(doc)
        turns = doc.get("turns")
        if isinstance(turns, Map):
            self._target(turns, "hub")
            for key in ("counter", "budget"):
                self._expression(turns, key)
            self._expression(turns, "refill")
            self._effects(turns, "end_of_turn")

    def _strategies(self, doc: Map) -> None:
        """Variables named outright (not by a wildcard) in `playtest: strategies:`, such as
        the NAME of `prefer:NAME`, so that renaming the variable renames them too."""
        playtest = doc.get("playtest")
        strategies = playtest.get("strategies") if isinstance(playtest, Map) else None
        if not isinstance(strategies, Map):
            return
        for name, spec in strategies.items():
            if not isinstance(spec, str) or not spec.startswith(("prefer:", "avoid:")):
                continue
            offset = self.file.offset(*_value_at(strategies, name))
            for pattern in spec.partition(":")[2].split(","):
                pattern = pattern.strip()
                if not pattern or any(ch in pattern for ch in "*?["):
                    continue
                at = self.file.find(pattern, offset)
                if at < 0:
                    break
                offset = at + len(pattern)
                span = self.file.span(at, len(pattern))
                if pattern in self.per_char:
                    self._add("var", pattern, span)
                else:
                    self._name(pattern, span.line, span.start, span)

    def _scene(self, doc: Map) -> None:
        idx = self.index
        if isinstance(doc.get("character"), str):
            self._name_in_value(doc, "character", "char", doc["character"])
        decls = doc.get("variables")
        if isinstance(decls, Map):
            for name in decls:
                v = idx.variables.get(name)
                if v is not None and v.span.file == self.file.rel:
                    self._add("var", name, v.span, decl=True)
        self._effects(doc, "end_of_turn")
        nodes = doc.get("nodes")
        if not isinstance(nodes, Map):
            return
        for name, body in nodes.items():
            node = idx.nodes.get(f"{self.scene}.{name}")
            if node is not None and node.span.file == self.file.rel:
                self._add("node", node.id, node.span, decl=True)
            if isinstance(body, Map):
                self._node(body)

    def _node(self, body: Map) -> None:
        self._template(body, "title")
        self._text(body, "text")
        self._effects(body, "effects")
        self._target(body, "goto")
        for key in ("choices", "random", "branch"):
            items = body.get(key)
            if isinstance(items, Seq):
                for item in items:
                    if isinstance(item, Map):
                        self._choice(item)
        ending = body.get("ending")
        if isinstance(ending, Map) and isinstance(ending.get("character"), str):
            self._name_in_value(ending, "character", "char", ending["character"])
        event = body.get("event")
        if isinstance(event, Map):
            for key in ("title", "reason"):
                self._template(event, key)
            for key in ("if", "weight"):
                self._expression(event, key)
            self._cost(event)

    def _choice(self, m: Map) -> None:
        for key in ("text", "reason"):
            self._template(m, key)
        for key in ("if", "weight"):
            self._expression(m, key)
        self._cost(m)
        self._effects(m, "effects")
        self._target(m, "goto", via=m)

    def _cost(self, m: Map) -> None:
        cost = m.get("cost")
        if isinstance(cost, Map):
            for name in cost:
                span = self._key_span(cost, name)
                self._name(name, span.line, span.start, span)
                self._expression(cost, name)

    def _effects(self, m: Any, key: Any) -> None:
        value = m.get(key) if isinstance(m, Map) else None
        if isinstance(value, str):
            self._expression(m, key)
        elif isinstance(value, Seq):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    self._expression(value, i)
                elif isinstance(item, Map):
                    self._expression(item, "if")
                    self._effects(item, "then")
                    self._effects(item, "else")

    def _text(self, m: Any, key: Any) -> None:
        value = m.get(key) if isinstance(m, Map) else m[key]
        if isinstance(value, str):
            self._template(m, key)
        elif isinstance(value, Seq):
            for i in range(len(value)):
                self._text(value, i)
        elif isinstance(value, Map):
            self._expression(value, "if")
            for k in ("text", "else"):
                self._text(value, k)
            for k in ("sequence", "cycle", "shuffle"):
                alternatives = value.get(k)
                if isinstance(alternatives, Seq):
                    for i in range(len(alternatives)):
                        self._text(alternatives, i)

    def _target(self, m: Map, key: str, via: Any = None) -> None:
        ref = m.get(key)
        if not isinstance(ref, str) or ref in _SPECIAL:
            return
        line, col = _value_at(m, key)
        at = self.file.find(ref, self.file.offset(line, col))
        if at < 0:
            return
        self._node_ref(ref, at, via)

    def _node_ref(self, ref: str, at: int, via: Any = None) -> None:
        full = ref if "." in ref or not self.scene else f"{self.scene}.{ref}"
        last = ref.rsplit(".", 1)[-1]
        self._add(
            "node",
            full,
            self.file.span(at, len(ref)),
            self.file.span(at + len(ref) - len(last), len(last)),
            via=via,
        )

    def _name_in_value(self, m: Map, key: str, kind: str, name: str) -> None:
        line, col = _value_at(m, key)
        at = self.file.find(name, self.file.offset(line, col))
        if at >= 0:
            self._add(kind, name, self.file.span(at, len(name)))

    def _template(self, m: Any, key: Any) -> None:
        value = m.get(key) if isinstance(m, Map) else (m[key] if isinstance(m, Seq) else None)
        if not isinstance(value, str) or "{" not in value:
            return
        line, col = _value_at(m, key)
        offset = self.file.offset(line, col)
        i = 0
        while True:
            i = value.find("{", i)
            if i < 0:
                return
            if value.startswith("{{", i):
                i += 2
                continue
            end = value.find("}", i + 1)
            if end < 0:
                return
            offset = self._scan(value[i + 1 : end], offset)
            i = end + 1

    def _expression(self, m: Any, key: Any) -> None:
        value = m.get(key) if isinstance(m, Map) else (m[key] if isinstance(m, Seq) else None)
        if isinstance(value, str):
            line, col = _value_at(m, key)
            self._scan(value, self.file.offset(line, col))

    def _scan(self, source: str, offset: int) -> int:
        """Record the names in an expression whose text starts at or after `offset`."""
        pending = ""
        for m in _EXPR_TOKEN.finditer(source):
            name = m.group(1)
            if not name:
                at = self.file.text.find(m.group(), offset)  # step over a quoted string
                offset = at + len(m.group()) if at >= 0 else offset
                continue
            if m.group(2):
                pending = name if name in ("visited", "ended") else ""
                continue
            if name in _KEYWORDS:
                pending = ""
                continue
            at = self.file.find(name, offset)
            if at < 0:
                return offset
            offset = at + len(name)
            span = self.file.span(at, len(name))
            if pending == "visited":
                self._node_ref(name, at)
            elif pending == "ended":
                self._add("char", name, span)
            else:
                self._name(name, span.line, span.start, span)
            pending = ""
        return offset

    def _name(self, name: str, line: int, start: int, span: Span) -> None:
        """A variable (or a character's variable or name) used by name."""
        if name in self.plain:
            self._add("var", name, span)
            return
        cid, _, rest = name.partition(".")
        if rest and cid in self.index.characters:
            self._add("char", cid, Span(span.file, line, start, start + len(cid)))
            if rest in self.per_char:
                part = Span(span.file, line, start + len(cid) + 1, span.end)
                self._add("var", rest, part)


def build_index(root: Path, texts: Mapping[str, str]) -> StoryIndex:
    """Index a story's files, given as {relative path: text}."""
    return _Indexer(root, texts).build()


# -- where the cursor is -------------------------------------------------------------------------

_LINE = re.compile(
    r"(?P<indent> *)(?P<dashes>(?:- +)*)(?:(?P<key>[A-Za-z_<][A-Za-z0-9_.<>-]*|'[^']*'|\"[^\"]*\") *:(?: |$))?"
)


def key_path(lines: list[str], line: int) -> list[str]:
    """The keys (and `-` for a list item) leading to a line of block YAML, outermost first.

    The current line's own key is not included: the path is where a key on this line goes.
    """
    if line >= len(lines):
        return []
    m = _LINE.match(lines[line])
    assert m is not None
    cur = len(m.group("indent"))
    path: list[str] = []
    for d in reversed(list(re.finditer(r"- +", m.group("dashes")))):
        path.insert(0, "-")
        cur = len(m.group("indent")) + d.start()
    for i in range(line - 1, -1, -1):
        if cur == 0:
            break
        text = lines[i]
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _LINE.match(text)
        assert m is not None
        indent = len(m.group("indent"))
        if indent >= cur and not m.group("dashes"):
            continue
        key_col = indent + len(m.group("dashes"))
        key = m.group("key")
        if key and key_col < cur:
            path.insert(0, key.strip("'\""))
            cur = key_col
        elif key_col >= cur and indent >= cur:
            continue
        for d in reversed(list(re.finditer(r"- +", m.group("dashes")))):
            col = indent + d.start()
            if col < cur:
                path.insert(0, "-")
                cur = col
    return path


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _alternatives(schema: dict[str, Any], node: Any) -> Iterator[dict[str, Any]]:
    node = _resolve(schema, node)
    if not isinstance(node, dict):
        return
    yield node
    for key in ("anyOf", "oneOf"):
        for alt in node.get(key, ()):
            yield from _alternatives(schema, alt)


def schema_keys(schema: dict[str, Any], path: list[str], story_file: bool) -> dict[str, str]:
    """The keys the schema allows at a key path, with their descriptions ({} if none)."""
    nodes: list[Any] = [schema["$defs"]["story" if story_file else "scene"]]
    for step in path:
        nxt: list[Any] = []
        for node in nodes:
            for alt in _alternatives(schema, node):
                if step == "-":
                    if "items" in alt:
                        nxt.append(alt["items"])
                elif step in alt.get("properties", {}):
                    nxt.append(alt["properties"][step])
                elif isinstance(alt.get("additionalProperties"), dict):
                    nxt.append(alt["additionalProperties"])
        nodes = nxt
    out: dict[str, str] = {}
    for node in nodes:
        for alt in _alternatives(schema, node):
            for key, prop in alt.get("properties", {}).items():
                if key not in out:
                    prop = _resolve(schema, prop)
                    out[key] = prop.get("description", "") if isinstance(prop, dict) else ""
    return out


def expression_context(text: str) -> str:
    """What is being typed at the end of `text` inside an expression: 'node' after
    `visited(`, 'char' after `ended(`, 'enum:NAME' for a value compared with NAME, else 'name'."""
    m = re.search(r"\b(visited|ended)\(\s*[A-Za-z0-9_.]*\Z", text)
    if m:
        return "node" if m.group(1) == "visited" else "char"
    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*[!=]=\s*'[A-Za-z0-9_ -]*\Z", text)
    if m:
        return f"enum:{m.group(1)}"
    return "name"


FUNCTION_HELP = {
    "visited": "visited(node): how many times the node has been entered",
    "ended": "ended(character): whether that character's story has ended",
    "chance": "chance(p): true with probability p (0 to 1), from the game's seeded random numbers",
    "random": "random(a, b): a whole number from a to b, inclusive",
    "min": "min(a, b, ...): the smallest",
    "max": "max(a, b, ...): the largest",
    "clamp": "clamp(x, lo, hi): x kept within lo..hi",
    "abs": "abs(x): x without its sign",
}
assert set(FUNCTION_HELP) == set(ex.FUNCTIONS)

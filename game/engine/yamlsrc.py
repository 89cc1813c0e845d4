"""Safe, bounded YAML reading that keeps the line and column of every key and value.

Built on the C event parser (never the constructor), so only plain data comes out: no tags,
no Python objects. Duplicate keys, deep nesting and alias bombs are errors, not surprises.
"""

from __future__ import annotations

import re
from typing import Any

from .textsafe import BIDI, UNSAFE

# PyYAML is imported when a file is actually parsed: a story loaded from the compiled cache
# never needs it, which keeps the game's start-up short.

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_FLOW_DEPTH = 200
MAX_EXPANDED_NODES = 2_000_000

_STR = "tag:yaml.org,2002:str"
_KNOWN_TAGS = {
    None,
    "!",
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+)\Z")
_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_FLOW = re.compile(r"[\[\]{}]")
# A plain scalar can only be a number, a bool or null if it starts with one of these (or is empty).
_MAYBE_TYPED = frozenset("0123456789+-.~nNtTfF") | {""}
# Raw characters a story file may not hold: every control character but tab, newline and the
# carriage return of a CRLF line end (one character class: the regex engine scans it fastest).
_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI_CHARS = tuple(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Escapes of a double-quoted YAML string, which can make any character out of plain ASCII.
_ESCAPE = re.compile(r"\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.S)
_ESCAPED = {
    "0": "\x00",
    "a": "\x07",
    "b": "\x08",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    "N": "\x85",
}
MAX_CHAR_PROBLEMS = 20


class Map(dict):  # type: ignore[type-arg]
    """A YAML mapping; `pos[key]` is (key line, key col, value line, value col, style)."""

    __slots__ = ("line", "col", "pos")

    def __init__(self, line: int, col: int) -> None:
        super().__init__()
        self.line = line
        self.col = col
        self.pos: dict[str, tuple[int, int, int, int, str | None]] = {}


class Seq(list):  # type: ignore[type-arg]
    """A YAML sequence; `pos[i]` is (line, col, style) of item i."""

    __slots__ = ("line", "col", "pos")

    def __init__(self, line: int, col: int) -> None:
        super().__init__()
        self.line = line
        self.col = col
        self.pos: list[tuple[int, int, str | None]] = []


class YamlProblem(Exception):
    """A file that is not acceptable YAML; line and column count from 1."""

    def __init__(self, message: str, line: int = 1, column: int = 1, severity: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.severity = severity


def char_message(ch: str) -> str:
    """What is wrong with a character a story's text may not hold."""
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return f"lone surrogate U+{code:04X} in text (not a character)"
    if BIDI.match(ch):
        return (
            f"bidirectional control character U+{code:04X} in text: it can make text show "
            "in another order than it is written"
        )
    return f"control character U+{code:04X} in text"


def _place(text: str, index: int) -> tuple[int, int]:
    """Line and column (from 1) of a character index."""
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def _raw_characters(text: str, notes: list[YamlProblem]) -> None:
    """Raw control characters (errors: the first is raised) and bidi controls (warnings)."""
    found = []
    for m in _RAW_CONTROL.finditer(text):
        if m.group() == "\r" and text.startswith("\n", m.end()):
            continue
        found.append(YamlProblem(char_message(m.group()), *_place(text, m.start())))
        if len(found) >= MAX_CHAR_PROBLEMS:
            break
    if any(c in text for c in _BIDI_CHARS):  # a few substring searches are quicker than a regex
        for m in BIDI.finditer(text):
            notes.append(YamlProblem(char_message(m.group()), *_place(text, m.start()), "warning"))
            if len(notes) >= MAX_CHAR_PROBLEMS:
                break
    if found:
        notes.extend(found[1:])
        raise found[0]


def _escaped_characters(text: str, ev: Any, notes: list[YamlProblem]) -> None:
    """Report the escapes of a double-quoted string that make characters text can't hold."""
    start, end = ev.start_mark.index, ev.end_mark.index
    before = len(notes)
    for m in _ESCAPE.finditer(text, start, end):
        esc = m.group()[1:]
        if esc[0] in "xuU":
            try:
                ch = chr(int(esc[1:], 16))
            except (ValueError, OverflowError):
                continue
        else:
            ch = _ESCAPED.get(esc, "")
        if not ch:
            continue
        if UNSAFE.match(ch):
            notes.append(YamlProblem(char_message(ch), *_place(text, m.start())))
        elif BIDI.match(ch):
            notes.append(YamlProblem(char_message(ch), *_place(text, m.start()), "warning"))
    if len(notes) == before:
        # Not made by an escape we know: say so at the string itself.
        bad = UNSAFE.search(ev.value) or BIDI.search(ev.value)
        if bad is not None and bad.group() not in text[start:end]:  # raw ones are already reported
            severity = "error" if UNSAFE.match(bad.group()) else "warning"
            notes.append(
                YamlProblem(
                    char_message(bad.group()), ev.start_mark.line + 1, ev.start_mark.column + 1, severity
                )
            )


def _scalar(value: str, tag: str | None, plain: bool) -> Any:
    if tag in (_STR, "!") or (tag is None and not plain):
        return value
    if tag is None or tag == "tag:yaml.org,2002:null" and value in _NULLS:
        if value in _NULLS:
            return None
        b = _BOOLS.get(value)
        if b is not None:
            return b
        if _INT.match(value):
            return int(value)
        if _FLOAT.match(value):
            return float(value)
        return value
    if tag == "tag:yaml.org,2002:int" and _INT.match(value):
        return int(value)
    if tag == "tag:yaml.org,2002:float" and (_FLOAT.match(value) or _INT.match(value)):
        return float(value)
    if tag == "tag:yaml.org,2002:bool" and value in _BOOLS:
        return _BOOLS[value]
    raise ValueError(f"{value!r} is not a valid {tag.rsplit(':', 1)[-1]}")


def _check_flow_depth(text: str) -> None:
    # libyaml slows down badly on very deep flow nesting, so refuse it before parsing.
    depth = 0
    for m in _FLOW.finditer(text):
        if m.group() in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                line = text.count("\n", 0, m.start()) + 1
                col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
                raise YamlProblem(f"nesting is deeper than {MAX_FLOW_DEPTH} levels", line, col)
        elif depth:
            depth -= 1


def decode(data: bytes) -> str:
    """Decode story bytes as UTF-8, or raise YamlProblem at the first bad byte."""
    if len(data) > MAX_FILE_BYTES:
        raise YamlProblem(f"file is too large ({len(data):,} bytes; the limit is {MAX_FILE_BYTES:,})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise YamlProblem(
            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8",
            line,
            col,
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def read(data: bytes, notes: list[YamlProblem] | None = None) -> Any:
    """Parse one YAML document from bytes into Map/Seq/scalars, or raise YamlProblem.

    Characters that text may not hold are reported at their exact line and column: a raw
    control character is raised (and any further ones added to `notes`); one made by an
    escape such as `"\\e"` is added to `notes` as an error; a bidirectional control as a warning.
    """
    import yaml

    if notes is None:
        notes = []
    text = decode(data)
    _raw_characters(text, notes)
    _check_flow_depth(text)
    try:
        return _build(text, notes)
    except yaml.MarkedYAMLError as exc:
        raise _parser_problem(exc, text) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}") from None


def _build(text: str, notes: list[YamlProblem]) -> Any:
    import yaml

    try:
        loader = yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - only without libyaml
        loader = yaml.SafeLoader  # type: ignore[assignment]
    events = yaml.parse(text, Loader=loader)
    stack: list[Any] = []  # containers being built
    keys: list[Any] = []  # for maps: pending key (or _NOKEY); for seqs: unused
    sizes: list[int] = []
    anchors: dict[str, tuple[Any, int]] = {}
    anchor_of: list[str | None] = []
    total = 0
    root: Any = None
    have_root = False
    docs = 0
    nokey = keys  # sentinel object: "no key pending"

    def add(value: Any, line: int, col: int, style: str | None, size: int, new: int) -> None:
        nonlocal root, have_root, total
        total += new
        if total > MAX_EXPANDED_NODES:
            raise YamlProblem("too many nodes once aliases are expanded (an alias bomb?)", line + 1, col + 1)
        if not stack:
            root = value
            have_root = True
            return
        parent = stack[-1]
        sizes[-1] += size
        if type(parent) is Seq:
            parent.append(value)
            parent.pos.append((line + 1, col + 1, style))
            return
        pending = keys[-1]
        if pending is nokey:
            if not isinstance(value, (str, int, float, bool)) and value is not None:
                raise YamlProblem("a mapping key must be a plain name", line + 1, col + 1)
            key = value if isinstance(value, str) else str(value)
            if key in parent:
                first = parent.pos[key]
                raise YamlProblem(f"duplicate key '{key}' (first used at line {first[0]})", line + 1, col + 1)
            keys[-1] = (key, line + 1, col + 1)
            return
        key, kl, kc = pending
        parent[key] = value
        parent.pos[key] = (kl, kc, line + 1, col + 1, style)
        keys[-1] = nokey

    ev: Any
    scalar_event = yaml.ScalarEvent
    escapes = "\\" in text  # without a backslash no string can hold an escape
    for ev in events:
        cls = type(ev)
        if cls is scalar_event and stack and not ev.anchor and total < MAX_EXPANDED_NODES:
            # The common case, inlined: a scalar inside a mapping or a list.
            tag = ev.tag
            value = ev.value
            if tag is None and ev.implicit[0]:
                if value[:1] in _MAYBE_TYPED:
                    value = _scalar(value, None, True)
            elif not (tag is None or tag == "!" or tag == _STR):
                if tag not in _KNOWN_TAGS:
                    m = ev.start_mark
                    raise YamlProblem(f"unsupported tag '{tag}'", m.line + 1, m.column + 1)
                try:
                    value = _scalar(value, tag, ev.implicit[0])
                except ValueError as exc:
                    m = ev.start_mark
                    raise YamlProblem(str(exc), m.line + 1, m.column + 1) from None
            if (
                escapes
                and ev.style == '"'
                and type(value) is str
                and (UNSAFE.search(value) or BIDI.search(value))
            ):
                _escaped_characters(text, ev, notes)
            m = ev.start_mark
            line = m.line + 1
            col = m.column + 1
            total += 1
            sizes[-1] += 1
            parent = stack[-1]
            if type(parent) is Seq:
                parent.append(value)
                parent.pos.append((line, col, ev.style or None))
                continue
            pending = keys[-1]
            if pending is nokey:
                key = value if type(value) is str else str(value)
                if key in parent:
                    raise YamlProblem(
                        f"duplicate key '{key}' (first used at line {parent.pos[key][0]})", line, col
                    )
                keys[-1] = (key, line, col)
                continue
            key, kl, kc = pending
            parent[key] = value
            parent.pos[key] = (kl, kc, line, col, ev.style or None)
            keys[-1] = nokey
            continue
        if cls is yaml.ScalarEvent:
            m = ev.start_mark
            if ev.tag not in _KNOWN_TAGS:
                raise YamlProblem(f"unsupported tag '{ev.tag}'", m.line + 1, m.column + 1)
            try:
                value = _scalar(ev.value, ev.tag, ev.implicit[0])
            except ValueError as exc:
                raise YamlProblem(str(exc), m.line + 1, m.column + 1) from None
            if (
                escapes
                and ev.style == '"'
                and type(value) is str
                and (UNSAFE.search(value) or BIDI.search(value))
            ):
                _escaped_characters(text, ev, notes)
            add(value, m.line, m.column, ev.style or None, 1, 1)
            if ev.anchor:
                anchors[ev.anchor] = (value, 1)
        elif cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
            m = ev.start_mark
            if ev.tag not in _KNOWN_TAGS:
                raise YamlProblem(f"unsupported tag '{ev.tag}'", m.line + 1, m.column + 1)
            if len(stack) >= MAX_DEPTH:
                raise YamlProblem(f"nesting is deeper than {MAX_DEPTH} levels", m.line + 1, m.column + 1)
            container: Any = (
                Map(m.line + 1, m.column + 1)
                if cls is yaml.MappingStartEvent
                else Seq(m.line + 1, m.column + 1)
            )
            # Attach to the parent now so keys and positions are recorded in order.
            stack.append(container)
            keys.append(nokey)
            sizes.append(1)
            anchor_of.append(ev.anchor)
        elif cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
            container = stack.pop()
            keys.pop()
            size = sizes.pop()
            anchor = anchor_of.pop()
            add(container, container.line - 1, container.col - 1, None, size, 1)
            if anchor:
                anchors[anchor] = (container, size)
        elif cls is yaml.AliasEvent:
            m = ev.start_mark
            found = anchors.get(ev.anchor)
            if found is None:
                raise YamlProblem(f"unknown alias '*{ev.anchor}'", m.line + 1, m.column + 1)
            add(found[0], m.line, m.column, None, found[1], found[1])
        elif cls is yaml.DocumentStartEvent:
            docs += 1
            if docs > 1:
                m = ev.start_mark
                raise YamlProblem(
                    "a story file holds one YAML document; remove the extra '---'",
                    m.line + 1,
                    m.column + 1,
                )
    if not have_root or root is None:
        raise YamlProblem("file is empty")
    return root


def _parser_problem(exc: Any, text: str) -> YamlProblem:
    """The parser's complaint in plain words, with a hint and the place to look."""
    from .textsafe import one_line  # only needed when something is wrong

    mark = exc.problem_mark or exc.context_mark
    raw = exc.problem or "invalid YAML"
    if exc.context:
        raw = f"{raw} ({exc.context})"
    if mark is None:
        return YamlProblem(raw)
    if text[mark.index : mark.index + 1] == "\t":
        return YamlProblem(
            "tab characters can't be used for indentation; use spaces", mark.line + 1, mark.column + 1
        )
    at = (mark.line + 1, mark.column + 1)
    ctx = exc.context_mark
    opened = f"line {ctx.line + 1}, column {ctx.column + 1}" if ctx is not None else "above"
    lines = text.splitlines()
    line_text = lines[mark.line] if mark.line < len(lines) else ""
    before = line_text[: mark.column]
    problem = exc.problem or ""
    plain = None
    if problem == "mapping values are not allowed in this context":
        if re.fullmatch(r"\s*[^\s:#'\"]+\s*", before):
            plain = (
                "this key is indented deeper than the line above, so it reads as part of "
                "that line's value; line it up with the keys above it"
            )
        else:
            plain = (
                "a colon followed by a space inside a value starts a new key in YAML; put "
                'the whole value in quotes, like text: "Note: this"'
            )
    elif problem == "did not find expected key" or problem.startswith("did not find expected '-'"):
        opener = re.match(r"\s*(?:-\s+)*(?:[^\s:#'\"{\[-][^:]*:\s+)?([{\[])", line_text)
        if before.strip() and opener is not None:
            brace = opener.group(1)
            value = line_text[opener.start(1) :].split(" #")[0].strip()
            if len(value) > 40:
                value = value[:37] + "..."
            value = one_line(value)
            quoted = f"'{value}'" if '"' in value else f'"{value}"'
            plain = (
                f"a value that starts with '{brace}' is read as a "
                f"{'mapping' if brace == '{' else 'list'}, so the text after it can't follow; "
                f"put the whole text in quotes: {quoted}"
            )
        elif before.strip():
            plain = (
                "the value ends before this point, but the line goes on; if the text "
                "starts with a quote, put the whole text in quotes (inside single quotes, "
                "write a single quote twice: 'it''s')"
            )
        elif problem.startswith("did not find expected '-'"):
            plain = (
                f"this line isn't lined up with the list items above it (the list starts "
                f"at {opened}); indent it to match them, or indent it under one of them"
            )
        elif before.count(" ") == len(before) and line_text[mark.column :].startswith("-"):
            plain = (
                "this list item isn't lined up with the lines above it; indent every item "
                "of a list the same, with spaces"
            )
        else:
            where = f" in column {ctx.column + 1} (line {ctx.line + 1})" if ctx is not None else ""
            plain = (
                f"this line isn't lined up with the keys above it: it starts in column "
                f"{mark.column + 1}, and the keys around it start{where}; indent it with "
                f"spaces to match the keys it belongs with"
            )
    elif problem.startswith("did not find expected ','"):
        close = "]" if problem.endswith("']'") else "}"
        if ctx is not None and not text[mark.index :].strip():
            at = (ctx.line + 1, ctx.column + 1)  # at the end of the file: show where it opens
        kind = "list" if close == "]" else "mapping"
        plain = (
            f"the {kind} that opens with '{'[' if close == ']' else '{'}' at {opened} isn't "
            f"closed, or two of its items have no comma between them; close it with "
            f"'{close}', or, if the value is text that starts with a bracket, put it in quotes"
        )
    elif problem == "found unexpected end of stream" and exc.context == "while scanning a quoted scalar":
        if ctx is not None:
            at = (ctx.line + 1, ctx.column + 1)
        plain = (
            "the quote that opens here is never closed; add the closing quote, or, if the "
            "text itself contains that quote mark, use the other kind of quotes around it"
        )
    elif problem == "found character that cannot start any token":
        ch = one_line(text[mark.index : mark.index + 1])
        plain = f"a value can't start with '{ch}' in YAML; put the whole value in quotes"
    elif problem == "did not find expected alphabetic or numeric character" and ctx is not None:
        ch = text[ctx.index : ctx.index + 1]
        at = (ctx.line + 1, ctx.column + 1)
        plain = f"a value that starts with '{ch}' is read as a YAML reference; put the whole value in quotes"
    elif problem == "could not find expected ':'" and ctx is not None:
        at = (ctx.line + 1, ctx.column + 1)
        plain = (
            "this line has no ':' after its key; write 'key: value', or, if the line goes "
            "on with the text above it, indent it further than that text's key or put the "
            "text in quotes"
        )
    elif problem == "mapping keys are not allowed in this context":
        plain = "a value can't start with '? ' in YAML; put the whole value in quotes"
    elif problem == "block sequence entries are not allowed in this context":
        plain = (
            "a list item ('- ') can't start on the same line as its key; start the list on "
            "the next line, indented under the key"
        )
    elif problem == "found unknown escape character":
        plain = (
            "inside double quotes a backslash starts an escape; use single quotes, or write "
            "two backslashes for one"
        )
    elif problem == "did not find expected comment or line break" and (
        exc.context == "while scanning a block scalar"
    ):
        plain = "text after '|' or '>' starts on the next line, indented under the key"
    elif problem.startswith("expected <block end>"):
        plain = (
            "this line isn't lined up with the lines above it; indent it to match the "
            "keys or list items it belongs with"
        )
    if plain is None:
        return YamlProblem(raw, *at)
    return YamlProblem(f"{plain} (YAML: {raw})", *at)

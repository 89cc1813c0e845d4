"""`iom lsp`: the story checks, names and reachability in any editor, over the Language Server
Protocol on stdio.

Diagnostics are `iom check`'s errors and warnings, for the story with every open buffer's
unsaved text, debounced while the author types. Definition, references, rename, symbols and
completion come from the names index (lsp_index.py); hover adds what random playtests and the
exhaustive search say about a node, worked out in the background and cached by the story's
content. This is the only module that imports pygls.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from ..engine.errors import Problem
from ..engine.expr import FUNCTIONS
from ..engine.load import read_files
from ..engine.story import Story, release_frozen
from ..engine.textsafe import one_line
from ..paths import shipped_story_dir
from . import playtest as pt
from .analysis import check_story, ruled_out
from .lsp_index import (
    FUNCTION_HELP,
    NAME,
    Ref,
    Span,
    StoryIndex,
    build_index,
    expression_context,
    key_path,
    schema_keys,
)
from .schema import story_schema

PLAY_FROM = "iom.playFrom"
_EXPRESSION_KEYS = {"if", "weight", "refill", "counter", "budget"}
_TEXT_KEYS = {"text", "title", "reason", "else"}
_TARGET_KEYS = {"goto", "start", "hub"}
_EFFECT_KEYS = {"effects", "then", "else", "end_of_turn"}


@dataclass
class StoryState:
    """What the server knows about one story folder."""

    root: Path
    index: StoryIndex | None = None
    index_key: tuple[Any, ...] = ()
    story: Story | None = None  # the last version that loaded
    problems: list[Problem] = field(default_factory=list)
    published: set[str] = field(default_factory=set)
    pending: asyncio.Task[None] | None = None
    playtest: Any = None  # the last PlaytestReport
    playtest_hash: str = ""
    playtest_busy: bool = False
    paths: dict[tuple[str, str], Any] = field(default_factory=dict)  # (hash, node) -> report or None


class StoryServer(LanguageServer):
    """The language server, with each story folder's state and the background workers."""

    def __init__(self, runs: int = 200, search_seconds: float = 6.0, debounce: float = 0.3) -> None:
        super().__init__("iom", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.runs = runs
        self.search_seconds = search_seconds
        self.debounce = debounce
        self.stories: dict[Path, StoryState] = {}
        self.lock = threading.Lock()
        self.checker = ThreadPoolExecutor(1, thread_name_prefix="iom-check")
        self.player = ThreadPoolExecutor(1, thread_name_prefix="iom-playtest")
        self._schema: dict[str, Any] | None = None

    @property
    def schema(self) -> dict[str, Any]:
        if self._schema is None:
            self._schema = story_schema()
        return self._schema

    # -- files and stories ---------------------------------------------------------------
    def locate(self, uri: str) -> tuple[StoryState, str] | None:
        """The story a document belongs to (the nearest folder above it with a story.yaml),
        and the document's path within it."""
        path = to_fs_path(uri)
        if not path:
            return None
        file = Path(path).resolve()
        for folder in file.parents:
            if (folder / "story.yaml").is_file():
                state = self.stories.get(folder)
                if state is None:
                    state = self.stories[folder] = StoryState(folder)
                return state, file.relative_to(folder).as_posix()
        return None

    def overlay(self, state: StoryState) -> dict[str, bytes]:
        """The open buffers' text, for the files of one story."""
        out = {}
        for uri, doc in list(self.workspace.text_documents.items()):
            found = self.locate(uri)
            if found is not None and found[0] is state:
                out[found[1]] = doc.source.encode("utf-8")
        return out

    def texts(self, state: StoryState) -> dict[str, str]:
        try:
            files = read_files(state.root, self.overlay(state))
        except Exception:  # noqa: BLE001 - an unreadable folder just has no names
            return {}
        return {rel: data.decode("utf-8", errors="replace") for rel, data in files}

    def index(self, state: StoryState) -> StoryIndex:
        """The names index of the story as the buffers have it now (rebuilt when they change)."""
        texts = self.texts(state)
        key = tuple((rel, hash(text)) for rel, text in texts.items())
        with self.lock:
            if state.index is None or key != state.index_key:
                state.index = build_index(state.root, texts)
                state.index_key = key
            return state.index

    def uri(self, state: StoryState, rel: str) -> str:
        return (state.root / rel).as_uri()

    def location(self, state: StoryState, index: StoryIndex, span: Span) -> lsp.Location:
        return lsp.Location(self.uri(state, span.file), self.range(index, span))

    # Spans count characters; the client counts in the encoding agreed at start-up (UTF-16
    # unless it asked for UTF-8 or UTF-32), so columns are converted on every way in and out.
    def to_client(self, line: str, column: int) -> int:
        return int(self.workspace.position_codec.client_num_units(line[:column]))

    def from_client(self, line: str, character: int) -> int:
        units = self.workspace.position_codec.client_num_units
        count = 0
        for i, ch in enumerate(line):
            if count >= character:
                return i
            count += units(ch)
        return len(line)

    def range(self, index: StoryIndex, span: Span) -> lsp.Range:
        line = index.line(span.file, span.line)
        return lsp.Range(
            lsp.Position(span.line, self.to_client(line, span.start)),
            lsp.Position(span.line, self.to_client(line, span.end)),
        )

    # -- diagnostics ---------------------------------------------------------------------
    def schedule_check(self, uri: str) -> None:
        found = self.locate(uri)
        if found is None:
            return
        state = found[0]
        if state.pending is not None:
            state.pending.cancel()
        state.pending = asyncio.ensure_future(self._check_later(state))

    async def _check_later(self, state: StoryState) -> None:
        await asyncio.sleep(self.debounce)
        overlay = self.overlay(state)
        loop = asyncio.get_running_loop()
        try:
            story, problems = await loop.run_in_executor(self.checker, self._check, state, overlay)
        except Exception as exc:  # noqa: BLE001 - a server never falls over on a story
            self.window_log_message(
                lsp.LogMessageParams(lsp.MessageType.Error, f"iom: checking failed: {exc!r}")
            )
            return
        state.problems = problems
        if story is not None:
            state.story = story
            self.refresh_playtest(state, story)
        self.publish(state, overlay)

    def _check(self, state: StoryState, overlay: dict[str, bytes]) -> tuple[Story | None, list[Problem]]:
        release_frozen()  # earlier versions of the story, compiled by playtests, can go
        story, problems = check_story(state.root, overlay)
        self.index(state)  # ready for the requests that follow an edit
        return story, problems

    def publish(self, state: StoryState, overlay: dict[str, bytes]) -> None:
        by_file: dict[str, list[lsp.Diagnostic]] = {}
        for p in state.problems:
            by_file.setdefault(p.file, []).append(self.diagnostic(state, p, overlay))
        uris = {self.uri(state, rel): diags for rel, diags in by_file.items()}
        for rel in overlay:  # an open file hears that it was checked, even when it is clean
            uris.setdefault(self.uri(state, rel), [])
        for uri in state.published - set(uris):
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))
        for uri, diags in uris.items():
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, diags))
        state.published = set(uris)

    def diagnostic(self, state: StoryState, p: Problem, overlay: dict[str, bytes]) -> lsp.Diagnostic:
        line, col = max(p.line - 1, 0), max(p.column - 1, 0)
        end = col + 1
        data = overlay.get(p.file)
        if data is None:
            try:
                data = (state.root / p.file).read_bytes()
            except OSError:
                data = b""
        lines = data.decode("utf-8", errors="replace").split("\n")
        if line < len(lines):
            m = re.compile(r"[^\s,:\[\]{}()]+").match(lines[line], col)
            end = m.end() if m else max(col + 1, len(lines[line].rstrip()))
            col, end = self.to_client(lines[line], col), self.to_client(lines[line], end)
        severity = lsp.DiagnosticSeverity.Error if p.severity == "error" else lsp.DiagnosticSeverity.Warning
        return lsp.Diagnostic(
            lsp.Range(lsp.Position(line, col), lsp.Position(line, end)),
            p.message,
            severity=severity,
            source="iom",
        )

    # -- playtests and paths, in the background ------------------------------------------
    def refresh_playtest(self, state: StoryState, story: Story) -> None:
        """Play the story in the background when it has changed since the last playtest."""
        if state.playtest_busy or state.playtest_hash == story.content_hash or self.runs < 1:
            return
        state.playtest_busy = True

        def done(f: Future[Any]) -> None:
            state.playtest_busy = False
            if f.exception() is None:
                state.playtest, state.playtest_hash = f.result(), story.content_hash
            else:
                state.playtest_hash = story.content_hash  # a crashing story is not replayed forever
            latest = state.story
            if latest is not None and latest.content_hash != story.content_hash:
                self.refresh_playtest(state, latest)

        try:
            self.player.submit(pt.playtest, story, self.runs, 1).add_done_callback(done)
        except RuntimeError:  # shutting down
            state.playtest_busy = False

    def path_to(self, state: StoryState, story: Story, node: str) -> Any:
        """The search's report for a path to a node, or None while it is being worked out."""
        key = (story.content_hash, node)
        if key in state.paths:
            return state.paths[key]
        # Paths through an older version of the story are of no more use.
        state.paths = {k: v for k, v in state.paths.items() if k[0] == story.content_hash}
        state.paths[key] = None

        def search() -> Any:
            if state.story is not None and state.story.content_hash != story.content_hash:
                return None  # edited while this waited its turn: the next hover asks again
            return pt.explore(
                story,
                max_states=50_000,
                max_seconds=self.search_seconds,
                path_to=node,
                ruled_out=ruled_out(story),
            )

        def done(f: Future[Any]) -> None:
            if f.exception() is not None:
                state.paths[key] = False
            elif f.result() is None:
                state.paths.pop(key, None)
            else:
                state.paths[key] = f.result()

        try:
            self.player.submit(search).add_done_callback(done)
        except RuntimeError:  # shutting down
            state.paths.pop(key, None)
        return None


def _flat(value: Any, width: int = 200) -> str:
    """A value from the story on one line, control characters shown, cut to `width`."""
    text = one_line(" ".join(str(value).split()))
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def create_server(runs: int = 200, search_seconds: float = 6.0, debounce: float = 0.3) -> StoryServer:
    """The server with every feature registered."""
    server = StoryServer(runs, search_seconds, debounce)

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: StoryServer, params: lsp.InitializedParams) -> None:
        # Story files changed outside the editor (another program, a git checkout) are checked
        # again too, where the client can watch files for the server.
        workspace = ls.client_capabilities.workspace
        watching = workspace.did_change_watched_files if workspace is not None else None
        if watching is not None and watching.dynamic_registration:
            ls.client_register_capability(
                lsp.RegistrationParams(
                    [
                        lsp.Registration(
                            "iom-story-files",
                            lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            lsp.DidChangeWatchedFilesRegistrationOptions(
                                [lsp.FileSystemWatcher("**/*.{yaml,yml}")]
                            ),
                        )
                    ]
                )
            )

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: StoryServer, params: None) -> None:
        # Queued playtests and searches are dropped, so the editor isn't kept waiting on exit.
        ls.player.shutdown(wait=False, cancel_futures=True)
        ls.checker.shutdown(wait=False, cancel_futures=True)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def files_changed(ls: StoryServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            ls.schedule_check(change.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: StoryServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule_check(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: StoryServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule_check(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: StoryServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.schedule_check(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: StoryServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.schedule_check(params.text_document.uri)

    def ref_at(ls: StoryServer, params: Any) -> tuple[StoryState, StoryIndex, Ref] | None:
        found = ls.locate(params.text_document.uri)
        if found is None:
            return None
        state, rel = found
        index = ls.index(state)
        line = params.position.line
        ref = index.ref_at(rel, line, ls.from_client(index.line(rel, line), params.position.character))
        return (state, index, ref) if ref is not None else None

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: StoryServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        hit = ref_at(ls, params)
        if hit is None:
            return None
        state, index, ref = hit
        span = index.declaration(ref.kind, ref.name)
        return ls.location(state, index, span) if span is not None else None

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def references(ls: StoryServer, params: lsp.ReferenceParams) -> list[lsp.Location] | None:
        hit = ref_at(ls, params)
        if hit is None:
            return None
        state, index, ref = hit
        return [
            ls.location(state, index, r.span)
            for r in index.references(ref.kind, ref.name)
            if params.context.include_declaration or not r.decl
        ]

    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(ls: StoryServer, params: lsp.PrepareRenameParams) -> lsp.Range | None:
        hit = ref_at(ls, params)
        if (
            hit is None
            or hit[2].kind not in ("node", "var")
            or hit[1].declaration(hit[2].kind, hit[2].name) is None
        ):
            return None
        return ls.range(hit[1], hit[2].edit)

    @server.feature(lsp.TEXT_DOCUMENT_RENAME)
    def rename(ls: StoryServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
        hit = ref_at(ls, params)
        if hit is None or hit[2].kind not in ("node", "var"):
            return None
        state, index, ref = hit
        new = params.new_name
        if not NAME.match(new) or new in FUNCTIONS or new in ("and", "or", "not", "true", "false", "turn"):
            raise JsonRpcInvalidParams(f"'{_flat(new)}' can't be a name: use letters, digits and _")
        if ref.kind == "node":
            node = index.nodes.get(ref.name)
            if node is None:
                return None
            if f"{node.scene}.{new}" in index.nodes:
                raise JsonRpcInvalidParams(f"there is already a node '{node.scene}.{new}'")
        elif new in index.variables:
            raise JsonRpcInvalidParams(f"there is already a variable '{new}'")
        elif ref.name not in index.variables:
            return None
        changes: dict[str, list[lsp.TextEdit]] = {}
        for r in index.references(ref.kind, ref.name):
            changes.setdefault(ls.uri(state, r.edit.file), []).append(
                lsp.TextEdit(ls.range(index, r.edit), new)
            )
        return lsp.WorkspaceEdit(changes=changes)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: StoryServer, params: lsp.HoverParams) -> lsp.Hover | None:
        hit = ref_at(ls, params)
        if hit is None:
            return None
        state, index, ref = hit
        if ref.kind == "node":
            text = _node_hover(ls, state, index, ref.name)
        elif ref.kind == "var":
            text = _var_hover(index, ref.name)
        else:
            text = _char_hover(index, ref.name)
        if not text:
            return None
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text), ls.range(index, ref.span))

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(ls: StoryServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
        found = ls.locate(params.text_document.uri)
        if found is None:
            return []
        state, rel = found
        index = ls.index(state)
        return _document_symbols(ls, index, rel)

    @server.feature(lsp.WORKSPACE_SYMBOL)
    def workspace_symbol(ls: StoryServer, params: lsp.WorkspaceSymbolParams) -> list[lsp.WorkspaceSymbol]:
        query = params.query.lower()
        out: list[lsp.WorkspaceSymbol] = []
        for state in _known_stories(ls):
            index = ls.index(state)
            for sym, kind, span, container in _all_symbols(index):
                if query in sym.lower():
                    out.append(
                        lsp.WorkspaceSymbol(
                            location=ls.location(state, index, span),
                            name=sym,
                            kind=kind,
                            container_name=container,
                        )
                    )
        return out

    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[":", " ", "(", "{", "."])
    )
    def completion(ls: StoryServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        found = ls.locate(params.text_document.uri)
        if found is None:
            return None
        state, rel = found
        lines = ls.workspace.get_text_document(params.text_document.uri).source.split("\n")
        items = _completions(ls, state, rel, lines, params.position)
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION)
    def code_action(ls: StoryServer, params: lsp.CodeActionParams) -> list[lsp.Command] | None:
        found = ls.locate(params.text_document.uri)
        if found is None:
            return None
        state, rel = found
        node = ls.index(state).node_around(rel, params.range.start.line)
        if node is None:
            return None
        command = _play_command(state.root, node.id)
        # A bare Command is a code action every client runs (some misread a CodeAction that has one).
        return [lsp.Command(f"Play from here: {command}", PLAY_FROM, arguments=[node.id, str(state.root)])]

    @server.command(PLAY_FROM)
    def play_from(ls: StoryServer, *args: Any) -> str:
        values = list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args)
        node = str(values[0]) if values else ""
        root = Path(str(values[1])) if len(values) > 1 else shipped_story_dir()
        command = _play_command(root, node)
        ls.window_show_message(
            lsp.ShowMessageParams(lsp.MessageType.Info, f"In a terminal: {one_line(command)}")
        )
        return command

    return server


def _play_command(root: Path, node: str) -> str:
    story = "" if root.resolve() == shipped_story_dir().resolve() else f" --story {shlex.quote(str(root))}"
    return f"iom play{story} --from {shlex.quote(node)}"


def _known_stories(ls: StoryServer) -> list[StoryState]:
    if not ls.stories:
        folders = [to_fs_path(f.uri) for f in ls.workspace.folders.values()]
        if ls.workspace.root_path:
            folders.append(ls.workspace.root_path)
        for folder in folders:
            if not folder:
                continue
            base = Path(folder)
            for candidate in [base / "story.yaml", *sorted(base.glob("*/story.yaml"))]:
                if candidate.is_file():
                    ls.locate(candidate.as_uri())
    return list(ls.stories.values())


# -- hover -----------------------------------------------------------------------------------


def _first_text(body: Any) -> str:
    text = body.get("text") if isinstance(body, dict) else None
    while isinstance(text, list) and text:
        text = text[0]
    if isinstance(text, dict):
        text = text.get("text")
        while isinstance(text, list) and text:
            text = text[0]
    if not isinstance(text, str):
        return ""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    first = " ".join(lines[:2])
    return first if len(first) <= 240 else first[:239].rstrip() + "…"


def _md(text: Any) -> str:
    """Story text in Markdown, shown as written."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", _flat(str(text), 400))


def _node_hover(ls: StoryServer, state: StoryState, index: StoryIndex, node_id: str) -> str:
    """A node: what it is and says, then how it is reached (Markdown, blocks apart)."""
    node = index.nodes.get(node_id)
    if node is None:
        return f"`{_flat(node_id)}`: no such node"
    body = node.body if isinstance(node.body, dict) else {}
    title = body.get("title")
    blocks = [
        (f"**{_md(title)}** `{_flat(node_id)}`" if title else f"`{_flat(node_id)}`")
        + f"  \n{'event' if node.event else 'node'} in scene `{_flat(node.scene)}`, "
        f"{_flat(node.span.file)}:{node.span.line + 1}"
    ]
    first = _first_text(body)
    if first:
        blocks.append(f"> {_md(first)}")
    facts = []
    event = body.get("event") if isinstance(body.get("event"), dict) else None
    if event is not None:
        if event.get("if") is not None:
            facts.append(f"- offered when: `{_flat(event['if'])}`")
        if isinstance(event.get("cost"), dict):
            facts.append("- cost: " + ", ".join(f"{_flat(k)} {_flat(v)}" for k, v in event["cost"].items()))
        flags = [k for k in ("forced", "once") if event.get(k) is True]
        if flags:
            facts.append(f"- {', '.join(flags)}")
    ending = body.get("ending") if isinstance(body.get("ending"), dict) else None
    if ending is not None:
        facts.append(
            f"- ending `{_flat(ending.get('id', ''))}`: {_md(ending.get('title', ''))}"
            + (f" ({_md(ending['category'])})" if ending.get("category") else "")
        )
    choices = body.get("choices")
    if isinstance(choices, list):
        facts.append(f"- {len(choices)} choice{'' if len(choices) == 1 else 's'}")
    if facts:
        blocks.append("\n".join(facts))
    ways = _ways_in(index, node_id)
    if ways:
        blocks.append("**Ways in:**\n" + "\n".join(ways))
    blocks.extend(_reach_blocks(ls, state, node_id))
    return "\n\n".join(blocks)


def _ways_in(index: StoryIndex, node_id: str, most: int = 6) -> list[str]:
    """The gotos and visited() that lead to a node, each with its choice's condition and cost."""
    out = []
    refs = [r for r in index.references("node", node_id) if not r.decl]
    for ref in refs[:most]:
        source = index.node_around(ref.span.file, ref.span.line)
        where = f"`{_flat(source.id)}`" if source is not None else _flat(ref.span.file)
        via = ref.via if isinstance(ref.via, dict) else None
        if via is None:
            line = index.line(ref.span.file, ref.span.line).strip()
            out.append(f"- from {where}: `{_flat(line, 80)}`")
            continue
        parts = [f'"{_md(_flat(via["text"], 80))}"'] if isinstance(via.get("text"), str) else []
        if via.get("if") is not None:
            parts.append(f"if `{_flat(via['if'], 120)}`")
        if via.get("weight") is not None:
            parts.append(f"weight `{_flat(via['weight'], 80)}`")
        if isinstance(via.get("cost"), dict):
            parts.append("costs " + ", ".join(f"{_flat(k)} {_flat(v)}" for k, v in via["cost"].items()))
        out.append(f"- from {where}" + (f": {', '.join(parts)}" if parts else ""))
    if len(refs) > most:
        out.append(f"- and {len(refs) - most} more (find references lists them all)")
    return out


def _reach_blocks(ls: StoryServer, state: StoryState, node_id: str) -> list[str]:
    """Whether and how a node is reached: iom check's proof, random playtests, a path."""
    story = state.story
    if story is None or node_id not in story.node_index:
        return ["**Reached:** not known yet: the story is being checked, or has errors"]
    out = []
    proven = [
        p
        for p in state.problems
        if p.severity == "warning" and f"node '{node_id}' can't be reached" in p.message
    ]
    if proven:
        out.append(f"**Reachable:** no. {_md(proven[0].message)}")
    report = state.playtest
    if report is not None and node_id in report.node_ids and report.runs:
        n = report.node_visits[report.node_ids.index(node_id)]
        stale = "" if state.playtest_hash == story.content_hash else " (before the latest edits; refreshing)"
        out.append(
            f"**Random playtests:** reached in {n:,} of {report.runs:,} runs "
            f"({100 * n / report.runs:.1f}%, seed {report.seed}){stale}"
        )
    elif state.playtest_busy:
        out.append("**Random playtests:** running in the background; hover again in a moment")
    found = ls.path_to(state, story, node_id)
    if found is None:
        out.append("**Shortest path:** being worked out in the background; hover again in a moment")
    elif found is False:
        out.append("**Shortest path:** the search failed; `iom playtest --exhaustive` says why")
    elif found.path is None:
        if not proven:
            out.append(
                "**Reachable:** no: "
                + (
                    "the search proves it can't be reached"
                    if found.complete
                    else "the search did not reach it (nor prove it can't be)"
                )
            )
    else:
        which = "Shortest path" if found.path_shortest else "A path (not proven the shortest)"
        seed = f" with `--seed {found.path_seed}`" if found.path_seed is not None else ""
        steps = found.path
        out.append(f"**{which}**, {len(steps)} choice{'' if len(steps) == 1 else 's'}{seed}:")
        if not steps:
            out.append("(it is entered at the very start)")
        numbered = list(enumerate(steps, 1))
        parts = [numbered] if len(steps) <= 12 else [numbered[:5], numbered[-5:]]
        for k, part in enumerate(parts):
            if k:
                out.append(f"… {len(steps) - 10} more …")
            out.append("\n".join(f"{n}. at `{_flat(step.node)}`: {_md(step.text)}" for n, step in part))
    return out


def _var_hover(index: StoryIndex, name: str) -> str:
    """A variable: label, type, range, starting values and description."""
    decl = index.variables.get(name)
    if decl is None:
        return ""
    body = decl.body if isinstance(decl.body, dict) else {}
    per = " (each character's own)" if decl.per_character else ""
    lines = [
        f"**{_md(body.get('label', name))}** `{_flat(name)}`{per}  \n"
        f"declared at {_flat(decl.span.file)}:{decl.span.line + 1}"
    ]
    kind = body.get("type", "?")
    if kind == "int":
        lo, hi = body.get("min"), body.get("max")
        span = (
            f", {lo if lo is not None else '…'}..{hi if hi is not None else '…'}"
            if lo is not None or hi is not None
            else ""
        )
        lines.append(f"- int{span}, starts at {_flat(body.get('initial', 0))}")
    elif kind == "enum":
        values = body.get("values") or []
        lines.append(
            f"- one of {', '.join(_flat(v) for v in values)}; starts as {_flat(body.get('initial', values[0] if values else ''))}"
        )
    else:
        lines.append(f"- {_flat(kind)}, starts {_flat(body.get('initial', False))}")
    extras = [f"{k}: {_flat(body[k])}" for k in ("display", "group", "unit") if k in body]
    if body.get("track"):
        extras.append("tracked over the year")
    if extras:
        lines.append("- " + ", ".join(extras))
    if decl.per_character and index.characters:
        starts = []
        for cid, char in index.characters.items():
            own = char.body.get("initial") if isinstance(char.body, dict) else None
            value = own[name] if isinstance(own, dict) and name in own else body.get("initial", "…")
            starts.append(f"{_flat(cid)} {_flat(value)}")
        lines.append("- each starts at: " + ", ".join(starts))
    if body.get("description"):
        lines.append("")
        lines.append(_md(body["description"]))
    return "\n".join(lines)


def _char_hover(index: StoryIndex, cid: str) -> str:
    """A character: name, description and scenes."""
    decl = index.characters.get(cid)
    if decl is None:
        return ""
    body = decl.body
    name = (
        body
        if isinstance(body, str)
        else (body.get("name") if isinstance(body, dict) else None) or cid.capitalize()
    )
    lines = [f"**{_md(name)}** `{_flat(cid)}`, a character  \ndeclared at story.yaml:{decl.span.line + 1}"]
    if isinstance(body, dict) and body.get("description"):
        lines.append(_md(body["description"]))
    scenes = sorted({n.scene for n in index.nodes.values() if n.scene.split(".")[0] == cid})
    if scenes:
        lines.append(f"Scenes: {', '.join(f'`{_flat(s)}`' for s in scenes)}")
    return "\n\n".join(lines)


# -- symbols ---------------------------------------------------------------------------------


def _all_symbols(index: StoryIndex) -> list[tuple[str, lsp.SymbolKind, Span, str]]:
    out: list[tuple[str, lsp.SymbolKind, Span, str]] = []
    for rel, scene in index.scenes.items():
        out.append((scene, lsp.SymbolKind.Namespace, Span(rel, 0, 0, 0), "scene"))
    for node in index.nodes.values():
        out.append(
            (node.id, lsp.SymbolKind.Event if node.event else lsp.SymbolKind.Function, node.span, node.scene)
        )
    for var in index.variables.values():
        out.append((var.name, lsp.SymbolKind.Variable, var.span, "variables"))
    for char in index.characters.values():
        out.append((char.id, lsp.SymbolKind.Class, char.span, "characters"))
    return out


def _document_symbols(ls: StoryServer, index: StoryIndex, rel: str) -> list[lsp.DocumentSymbol]:
    text = index.texts.get(rel, "")
    last = max(text.count("\n"), 0)
    out: list[lsp.DocumentSymbol] = []
    for var in index.variables.values():
        if var.span.file == rel:
            out.append(
                lsp.DocumentSymbol(
                    var.name, lsp.SymbolKind.Variable, ls.range(index, var.span), ls.range(index, var.span)
                )
            )
    for char in index.characters.values():
        if char.span.file == rel:
            out.append(
                lsp.DocumentSymbol(
                    char.id, lsp.SymbolKind.Class, ls.range(index, char.span), ls.range(index, char.span)
                )
            )
    nodes = sorted((n for n in index.nodes.values() if n.span.file == rel), key=lambda n: n.span.line)
    children = []
    for i, node in enumerate(nodes):
        end = nodes[i + 1].span.line - 1 if i + 1 < len(nodes) else last
        whole = lsp.Range(lsp.Position(node.span.line, 0), lsp.Position(max(end, node.span.line), 0))
        title = node.body.get("title") if isinstance(node.body, dict) else None
        children.append(
            lsp.DocumentSymbol(
                node.id.rsplit(".", 1)[1],
                lsp.SymbolKind.Event if node.event else lsp.SymbolKind.Function,
                whole,
                ls.range(index, node.span),
                detail=_flat(title, 80) if isinstance(title, str) else None,
            )
        )
    scene = index.scenes.get(rel)
    if scene is not None:
        whole = lsp.Range(lsp.Position(0, 0), lsp.Position(last, 0))
        out.append(
            lsp.DocumentSymbol(
                scene,
                lsp.SymbolKind.Namespace,
                whole,
                lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)),
                detail="scene",
                children=children,
            )
        )
    return out


# -- completion ------------------------------------------------------------------------------


def _completions(
    ls: StoryServer, state: StoryState, rel: str, lines: list[str], pos: lsp.Position
) -> list[lsp.CompletionItem]:
    if pos.line >= len(lines):
        return []
    line = lines[pos.line]
    before = line[: ls.from_client(line, pos.character)]
    index = ls.index(state)
    path = key_path(lines, pos.line)
    m = re.match(r"\s*(?:-\s+)*(?:([A-Za-z_][A-Za-z0-9_.]*|'[^']*'|\"[^\"]*\")\s*:\s)?(.*)\Z", before)
    key = m.group(1) if m else None
    value = m.group(2) if m else before
    scene = index.scenes.get(rel, "")
    typed = re.search(r"[A-Za-z0-9_.<>-]*\Z", before)
    start = ls.to_client(line, len(before) - len(typed.group()) if typed else len(before))

    def edit(label: str) -> lsp.TextEdit:
        return lsp.TextEdit(lsp.Range(lsp.Position(pos.line, start), pos), label)

    def nodes() -> list[lsp.CompletionItem]:
        items = [
            lsp.CompletionItem(
                t, kind=lsp.CompletionItemKind.Keyword, text_edit=edit(t), detail="special target"
            )
            for t in ("<hub>", "<end-turn>")
        ]
        for n in index.nodes.values():
            local = n.scene == scene and bool(scene)
            label = n.id.rsplit(".", 1)[1] if local else n.id
            title = n.body.get("title") if isinstance(n.body, dict) else None
            items.append(
                lsp.CompletionItem(
                    label,
                    kind=lsp.CompletionItemKind.Reference,
                    text_edit=edit(label),
                    detail=_flat(title, 80) if isinstance(title, str) else n.id,
                    sort_text=("0" if local else "1") + label,
                )
            )
        return items

    def names(context: str) -> list[lsp.CompletionItem]:
        if context == "node":
            return [i for i in nodes() if not i.label.startswith("<")]
        if context.startswith("enum:"):
            return values(context[5:])
        chars = [
            lsp.CompletionItem(c, kind=lsp.CompletionItemKind.Class, text_edit=edit(c), detail="character")
            for c in index.characters
        ]
        if context == "char":
            return chars
        items = []
        for name in index.full_variables():
            base = name.rsplit(".", 1)[-1]
            decl = index.variables.get(base)
            label = decl.body.get("label") if decl is not None and isinstance(decl.body, dict) else None
            items.append(
                lsp.CompletionItem(
                    name,
                    kind=lsp.CompletionItemKind.Variable,
                    text_edit=edit(name),
                    detail=_flat(label, 80) if isinstance(label, str) else "variable",
                )
            )
        items.extend(
            lsp.CompletionItem(
                f"{c}.name",
                kind=lsp.CompletionItemKind.Constant,
                text_edit=edit(f"{c}.name"),
                detail="the character's name",
            )
            for c in index.characters
        )
        items.extend(
            lsp.CompletionItem(
                f, kind=lsp.CompletionItemKind.Function, detail=FUNCTION_HELP[f], text_edit=edit(f"{f}(")
            )
            for f in FUNCTIONS
        )
        items.extend(
            lsp.CompletionItem(k, kind=lsp.CompletionItemKind.Keyword, text_edit=edit(k))
            for k in ("and", "or", "not", "true", "false", "turn")
        )
        return items + chars

    def values(name: str) -> list[lsp.CompletionItem]:
        """An enum variable's values, quoted, after `name == '`."""
        decl = index.variables.get(name) or index.variables.get(name.rsplit(".", 1)[-1])
        listed = decl.body.get("values") if decl is not None and isinstance(decl.body, dict) else None
        if not isinstance(listed, list):
            return []
        quote = before.rfind("'")
        at = lsp.Position(pos.line, ls.to_client(line, quote))
        return [
            lsp.CompletionItem(
                f"'{v}'",
                kind=lsp.CompletionItemKind.EnumMember,
                filter_text=f"'{v}",
                text_edit=lsp.TextEdit(lsp.Range(at, pos), f"'{v}'"),
                detail=f"a value of {name}",
            )
            for v in listed
            if isinstance(v, str)
        ]

    open_brace = before.rfind("{") > before.rfind("}")
    if key is not None:
        if key in _TARGET_KEYS and not (key == "hub" and path[-1:] != ["turns"]):
            return nodes()
        if key == "character":
            return names("char")
        if key in _EXPRESSION_KEYS or (path and path[-1] == "cost"):
            return names(expression_context(value))
        if key in _TEXT_KEYS and open_brace:
            return names(expression_context(value))
        if key in _EFFECT_KEYS and value.strip():
            return names(expression_context(value))
        return []
    stripped = before.strip()
    if stripped.startswith("-") and path and path[-2:-1] and path[-2] in _EFFECT_KEYS:
        return names(expression_context(before))
    if open_brace:
        return names(expression_context(before))
    if re.fullmatch(r"\s*(?:-\s+)*[A-Za-z_]*", before):
        if path and path[-1] == "cost":
            return names("name")
        keys = schema_keys(ls.schema, path, rel == "story.yaml")
        return [
            lsp.CompletionItem(
                k, kind=lsp.CompletionItemKind.Property, detail=_flat(d, 120) or None, insert_text=f"{k}: "
            )
            for k, d in keys.items()
        ]
    return []


def run(runs: int = 200, search_seconds: float = 6.0) -> int:
    """Serve on stdin/stdout until the editor says goodbye."""
    server = create_server(runs, search_seconds)
    server.start_io()
    return 0

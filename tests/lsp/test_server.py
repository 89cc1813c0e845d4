"""`iom lsp` end to end: a real LSP client over stdio, on the shipped story and a broken copy.

One server serves the whole module; each test that edits works on its own copy of the shipped
story, which the server treats as a story of its own, so no test sees another's buffers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from game.authoring.analysis import check_story

from .conftest import SHIPPED, find, inside

# One server per module; in a parallel run (pytest-xdist --dist loadgroup) one worker runs them all.
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("lsp-server")]

SHIPPED_HOUSING = SHIPPED / "becky" / "housing.yaml"


def uri(path: Path) -> str:
    return path.resolve().as_uri()


def open_doc(client: LanguageClient, path: Path, text: str | None = None) -> str:
    text = path.read_text(encoding="utf-8") if text is None else text
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri(path), "yaml", 1, text))
    )
    return text


def change_doc(client: LanguageClient, path: Path, text: str, version: int) -> None:
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(version=version, uri=uri(path)),
            [lsp.TextDocumentContentChangeWholeDocument(text)],
        )
    )


async def diagnostics(
    client: LanguageClient, path: Path, ready: Callable[[Sequence[lsp.Diagnostic]], bool]
) -> Sequence[lsp.Diagnostic]:
    """The diagnostics published for a file, once they satisfy `ready` (guarding against a hang)."""
    key = uri(path)
    for _ in range(200):
        # Listen for the next notification before looking: one that comes in between would
        # otherwise be missed, and the wait would be for one that never comes.
        following = asyncio.wrap_future(
            client.protocol.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        )
        found = client.diagnostics.get(key)
        if found is not None and ready(found):
            return found
        await asyncio.wait_for(following, 30)
    raise AssertionError(f"no diagnostics as expected for {path}: {client.diagnostics.get(key)}")


def errors(diags: Sequence[lsp.Diagnostic]) -> list[lsp.Diagnostic]:
    return [d for d in diags if d.severity == lsp.DiagnosticSeverity.Error]


# -- diagnostics -----------------------------------------------------------------------------


async def test_diagnostics_follow_the_buffer_and_clear_when_fixed(client: LanguageClient, story: Path):
    housing = story / "becky" / "housing.yaml"
    text = open_doc(client, housing)
    assert errors(await diagnostics(client, housing, lambda d: True)) == []
    bad = text.replace("goto: evict_office", "goto: evict_ofice", 1)
    # Several quick edits are checked once they settle: the last one counts.
    change_doc(client, housing, text.replace("goto: evict_office", "goto: evict_of", 1), 2)
    change_doc(client, housing, bad, 3)
    found = errors(await diagnostics(client, housing, lambda d: bool(errors(d))))
    assert [d.message for d in found] == ["unknown node 'evict_ofice'; did you mean 'evict_office'?"]
    at = find(bad, "evict_ofice")
    assert found[0].range == lsp.Range(at, lsp.Position(at.line, at.character + len("evict_ofice")))
    assert found[0].source == "iom"
    change_doc(client, housing, text, 4)
    assert errors(await diagnostics(client, housing, lambda d: not errors(d))) == []


async def test_an_edit_in_one_file_shows_errors_in_the_others(client: LanguageClient, story: Path):
    housing = story / "becky" / "housing.yaml"
    story_yaml = story / "story.yaml"
    text = open_doc(client, story_yaml)
    await diagnostics(client, story_yaml, lambda d: True)
    change_doc(client, story_yaml, text.replace("\n  partnership:\n", "\n  partnershp:\n", 1), 2)
    found = await diagnostics(client, housing, lambda d: bool(errors(d)))
    assert any(
        "unknown variable 'partnership'" in d.message and "did you mean 'partnershp'" in d.message
        for d in found
    )
    change_doc(client, story_yaml, text, 3)
    assert errors(await diagnostics(client, housing, lambda d: not errors(d))) == []


async def test_a_broken_copy_gets_the_same_problems_as_iom_check(client: LanguageClient, broken_story: Path):
    open_doc(client, broken_story / "story.yaml")
    housing = broken_story / "becky" / "housing.yaml"
    scratch = broken_story / "becky" / "scratch.yaml"
    await diagnostics(client, housing, lambda d: bool(errors(d)))
    await diagnostics(client, scratch, lambda d: bool(errors(d)))
    _story, problems = check_story(broken_story)
    expected = sorted(
        (p.file, p.line - 1, p.column - 1, p.message) for p in problems if p.severity == "error"
    )
    got = sorted(
        (path.relative_to(broken_story).as_posix(), d.range.start.line, d.range.start.character, d.message)
        for path in (housing, scratch)
        for d in errors(client.diagnostics[uri(path)])
    )
    assert got == expected
    assert len(got) == 2


# -- definition, references, rename --------------------------------------------------------


async def test_definition_of_nodes_variables_and_characters(client: LanguageClient, story: Path):
    housing = story / "becky" / "housing.yaml"
    text = open_doc(client, housing)
    story_text = (story / "story.yaml").read_text(encoding="utf-8")

    async def definition(pos: lsp.Position) -> lsp.Location:
        result = await client.text_document_definition_async(
            lsp.DefinitionParams(lsp.TextDocumentIdentifier(uri(housing)), pos)
        )
        assert isinstance(result, lsp.Location), result
        return result

    node = await definition(inside(text, "goto: evict_office", "evict_office"))
    assert node.uri == uri(housing)
    assert node.range.start == find(text, "\n  evict_office:").__class__(
        find(text, "\n  evict_office:").line + 1, 2
    )
    var = await definition(inside(text, "- support_actions += 1", "support_actions"))
    assert var.uri == uri(story / "story.yaml")
    assert var.range.start == inside(story_text, "\n  support_actions:", "support_actions").__class__(
        find(story_text, "\n  support_actions:").line + 1, 2
    )
    char_var = await definition(inside(text, "becky.accommodation += 1", "accommodation"))
    assert story_text.splitlines()[char_var.range.start.line].strip() == "accommodation:"
    char = await definition(inside(text, "becky.accommodation += 1", "becky"))
    assert story_text.splitlines()[char.range.start.line].strip().startswith("becky:")


async def test_references_across_files(client: LanguageClient, story: Path):
    housing = story / "becky" / "housing.yaml"
    text = open_doc(client, housing)
    result = await client.text_document_references_async(
        lsp.ReferenceParams(
            context=lsp.ReferenceContext(include_declaration=True),
            text_document=lsp.TextDocumentIdentifier(uri(housing)),
            position=inside(text, "- partnership -= 1", "partnership"),
        )
    )
    assert result is not None
    files = {r.uri for r in result}
    assert uri(story / "story.yaml") in files and uri(housing) in files and len(files) > 3
    for r in result:
        line = (
            Path(r.uri.removeprefix("file://")).read_text(encoding="utf-8").splitlines()[r.range.start.line]
        )
        assert line[r.range.start.character : r.range.end.character] == "partnership"


def apply(edit: lsp.WorkspaceEdit, root: Path) -> dict[str, str]:
    """Apply a workspace edit to the files under `root`: {relative path: new text}."""
    out = {}
    assert edit.changes
    for file_uri, edits in edit.changes.items():
        path = Path(file_uri.removeprefix("file://"))
        lines = path.read_text(encoding="utf-8").split("\n")
        for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
            assert e.range.start.line == e.range.end.line
            line = lines[e.range.start.line]
            lines[e.range.start.line] = (
                line[: e.range.start.character] + e.new_text + line[e.range.end.character :]
            )
        out[path.relative_to(root).as_posix()] = "\n".join(lines)
    return out


@pytest.mark.parametrize(
    ("needle", "word", "new"),
    [
        ("goto: evict_office", "evict_office", "evict_meeting"),
        ("- support_actions += 1", "support_actions", "carrots"),
        ("becky.accommodation += 1", "accommodation", "housing_need"),
    ],
)
async def test_rename_leaves_a_story_that_checks_clean(
    client: LanguageClient, story: Path, needle: str, word: str, new: str
):
    root = story
    housing = root / "becky" / "housing.yaml"
    text = open_doc(client, housing)
    pos = inside(text, needle, word)
    prepared = await client.text_document_prepare_rename_async(
        lsp.PrepareRenameParams(lsp.TextDocumentIdentifier(uri(housing)), pos)
    )
    assert isinstance(prepared, lsp.Range)
    assert text.splitlines()[prepared.start.line][prepared.start.character : prepared.end.character] == word
    edit = await client.text_document_rename_async(
        lsp.RenameParams(lsp.TextDocumentIdentifier(uri(housing)), pos, new)
    )
    assert edit is not None
    changed = apply(edit, root)
    assert len(changed) >= (1 if word == "evict_office" else 2)
    for rel, new_text in changed.items():
        (root / rel).write_text(new_text, encoding="utf-8")
    _story, problems = check_story(root)
    assert [str(p) for p in problems if p.severity == "error"] == []
    renamed = (root / "becky" / "housing.yaml").read_text(encoding="utf-8")
    assert needle not in renamed and needle.replace(word, new) in renamed


async def test_rename_refuses_a_bad_or_taken_name(client: LanguageClient, story: Path):
    housing = story / "becky" / "housing.yaml"
    text = open_doc(client, housing)
    pos = inside(text, "goto: evict_office", "evict_office")
    for bad in ("two words", "evict_letter", "visited"):
        with pytest.raises(JsonRpcException):
            await client.text_document_rename_async(
                lsp.RenameParams(lsp.TextDocumentIdentifier(uri(housing)), pos, bad)
            )


# -- completion ------------------------------------------------------------------------------


async def complete(
    client: LanguageClient, path: Path, text: str, pos: lsp.Position
) -> dict[str, lsp.CompletionItem]:
    change_doc(client, path, text, 9)
    result = await client.text_document_completion_async(
        lsp.CompletionParams(lsp.TextDocumentIdentifier(uri(path)), pos)
    )
    assert isinstance(result, lsp.CompletionList)
    return {item.label: item for item in result.items}


async def test_completion_of_targets_names_functions_and_keys(client: LanguageClient, story: Path):
    housing = story / "becky" / "housing.yaml"
    text = open_doc(client, housing)
    at = find(text, "goto: evict_office")
    lines = text.split("\n")

    lines[at.line] = lines[at.line][: at.character] + "goto: ev"
    items = await complete(client, housing, "\n".join(lines), lsp.Position(at.line, len(lines[at.line])))
    assert {"evict_office", "evict_letter", "<hub>", "<end-turn>"} <= set(items)
    assert any(label.startswith("stokesy.") for label in items)  # other scenes' nodes, in full
    assert items["evict_office"].text_edit.new_text == "evict_office"  # type: ignore[union-attr]

    lines[at.line] = lines[at.line][: at.character] + "if: partnership > 2 and becky.t"
    items = await complete(client, housing, "\n".join(lines), lsp.Position(at.line, len(lines[at.line])))
    assert {"becky.trust", "stokesy.trust", "partnership", "visited", "chance", "becky", "becky.name"} <= set(
        items
    )
    assert items["becky.trust"].kind == lsp.CompletionItemKind.Variable

    lines[at.line] = lines[at.line][: at.character] + "if: becky.status == 'cus"
    items = await complete(client, housing, "\n".join(lines), lsp.Position(at.line, len(lines[at.line])))
    assert {"'custody'", "'community'", "'order'"} <= set(items) and "becky.trust" not in items
    quote = lines[at.line].index("'")
    assert items["'custody'"].text_edit.range.start.character == quote  # type: ignore[union-attr]

    lines[at.line] = lines[at.line][: at.character] + "if: visited(evi"
    items = await complete(client, housing, "\n".join(lines), lsp.Position(at.line, len(lines[at.line])))
    assert "evict_office" in items and "becky.trust" not in items

    lines[at.line] = lines[at.line][: at.character] + "on"
    items = await complete(client, housing, "\n".join(lines), lsp.Position(at.line, len(lines[at.line])))
    assert {"once", "fallback", "cost", "reason"} <= set(items) and "nodes" not in items

    lines[at.line] = lines[at.line][: at.character - 4] + "ev"  # where a node's keys go
    items = await complete(client, housing, "\n".join(lines), lsp.Position(at.line, len(lines[at.line])))
    assert {"event", "ending", "choices", "random"} <= set(items)


# -- hover, symbols, code action ------------------------------------------------------------


async def test_hover_on_a_node_tells_how_it_is_reached(client: LanguageClient, story: Path):
    housing = story / "becky" / "housing.yaml"
    text = open_doc(client, housing)
    await diagnostics(client, housing, lambda d: True)
    pos = inside(text, "goto: evict_office", "evict_office")
    value = ""
    for _ in range(120):  # the playtest and the path search run in the background
        hover = await client.text_document_hover_async(
            lsp.HoverParams(lsp.TextDocumentIdentifier(uri(housing)), pos)
        )
        assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
        value = hover.contents.value
        if "**Random playtests:** reached" in value and "path" in value and "being worked out" not in value:
            break
        await asyncio.sleep(0.25)
    assert "**The housing office** `becky.housing.evict_office`" in value
    assert "The housing association" in value  # the first lines of its text
    assert (
        "**Ways in:**\n- from `becky.housing.evict`: \"Go with her to the housing association's office and "
        'ask for a payment plan.", costs hours 2'
    ) in value
    assert "of 10 runs" in value
    assert "path" in value.lower() and "at `" in value


async def test_hover_on_a_variable_and_an_event(client: LanguageClient, story: Path):
    housing = story / "becky" / "housing.yaml"
    text = open_doc(client, housing)
    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri(housing)), inside(text, "- partnership -= 1", "partnership")
        )
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "**Goodwill with partners** `partnership`" in hover.contents.value
    assert "int, 0..10, starts at 5" in hover.contents.value
    assert "probation" in hover.contents.value  # the description
    # On an event's own name: what it is offered on and what it costs.
    hover = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri(housing)), inside(text, "  evict:\n", "evict"))
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert (
        "**Notice seeking possession** `becky.housing.evict`  \nevent in scene `becky.housing`"
        in hover.contents.value
    )
    assert "- offered when: `becky_evict and" in hover.contents.value
    assert "- cost: hours 1" in hover.contents.value and "- forced" in hover.contents.value
    # On a character, in a character variable.
    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri(housing)), inside(text, "becky.accommodation += 1", "becky")
        )
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert hover.contents.value.startswith("**Becky** `becky`, a character")
    assert "`becky.housing`" in hover.contents.value
    # A character variable lists each character's starting value.
    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri(housing)),
            inside(text, "becky.accommodation += 1", "accommodation"),
        )
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "(each character's own)" in hover.contents.value and "stokesy 2" in hover.contents.value


async def test_document_and_workspace_symbols(client: LanguageClient, story: Path):
    housing = story / "becky" / "housing.yaml"
    open_doc(client, housing)
    symbols = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(lsp.TextDocumentIdentifier(uri(housing)))
    )
    assert symbols is not None
    scene = [s for s in symbols if isinstance(s, lsp.DocumentSymbol) and s.name == "becky.housing"]
    assert scene and scene[0].kind == lsp.SymbolKind.Namespace
    children = {c.name: c for c in scene[0].children or []}
    assert children["evict"].kind == lsp.SymbolKind.Event
    assert children["evict_office"].kind == lsp.SymbolKind.Function
    assert children["evict_office"].detail == "The housing office"
    found = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="evict_off"))
    assert found is not None
    names = {s.name for s in found}
    assert "becky.housing.evict_office" in names
    events = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="becky.housing"))
    assert events is not None and any(s.kind == lsp.SymbolKind.Event for s in events)
    assert any(s.kind == lsp.SymbolKind.Namespace and s.name == "becky.housing" for s in events)


async def test_play_from_here(client: LanguageClient):
    text = open_doc(client, SHIPPED_HOUSING)
    line = find(text, "The housing association's office is in a business park").line
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri(SHIPPED_HOUSING)),
            lsp.Range(lsp.Position(line, 3), lsp.Position(line, 3)),
            lsp.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions is not None and len(actions) == 1
    action = actions[0]
    assert isinstance(action, lsp.Command)
    assert action.title == "Play from here: iom play --from becky.housing.evict_office"
    result = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=action.command, arguments=action.arguments)
    )
    assert result == "iom play --from becky.housing.evict_office"
    assert any("iom play --from becky.housing.evict_office" in m.message for m in client.messages)


async def test_play_from_a_copy_names_its_folder(client: LanguageClient, broken_story: Path):
    housing = broken_story / "becky" / "housing.yaml"
    text = open_doc(client, housing)
    line = find(text, "  evict_office:").line
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri(housing)),
            lsp.Range(lsp.Position(line, 2), lsp.Position(line, 2)),
            lsp.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions is not None
    assert (
        actions[0].title
        == f"Play from here: iom play --story {broken_story.resolve()} --from becky.housing.evict_office"
    )


async def test_a_file_that_is_not_yaml_still_leaves_the_rest_navigable(
    client: LanguageClient, broken_story: Path
):
    scratch = broken_story / "becky" / "scratch.yaml"
    open_doc(client, scratch)
    housing = broken_story / "becky" / "housing.yaml"
    text = open_doc(client, housing)
    result = await client.text_document_definition_async(
        lsp.DefinitionParams(
            lsp.TextDocumentIdentifier(uri(housing)), inside(text, "goto: evict_letter", "evict_letter")
        )
    )
    assert isinstance(result, lsp.Location) and result.uri == uri(housing)
    # An unknown node has nowhere to go, and its hover says so.
    typo = inside(text, "goto: evict_ofice", "evict_ofice")
    result = await client.text_document_definition_async(
        lsp.DefinitionParams(lsp.TextDocumentIdentifier(uri(housing)), typo)
    )
    assert result is None
    hover = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri(housing)), typo)
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert hover.contents.value == "`becky.housing.evict_ofice`: no such node"
    symbols = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(lsp.TextDocumentIdentifier(uri(scratch)))
    )
    assert symbols == []
    # The rest works while the story has errors: hover (without playtests), references,
    # rename, completion and symbols.
    pos = inside(text, "goto: evict_letter", "evict_letter")
    hover = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri(housing)), pos)
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "`becky.housing.evict_letter`" in hover.contents.value
    assert "**Reached:** not known yet: the story is being checked, or has errors" in hover.contents.value
    refs = await client.text_document_references_async(
        lsp.ReferenceParams(
            context=lsp.ReferenceContext(include_declaration=False),
            text_document=lsp.TextDocumentIdentifier(uri(housing)),
            position=pos,
        )
    )
    assert refs is not None and len(refs) == 1
    edit = await client.text_document_rename_async(
        lsp.RenameParams(lsp.TextDocumentIdentifier(uri(housing)), pos, "note")
    )
    assert edit is not None and edit.changes is not None and len(edit.changes[uri(housing)]) == 2
    line = typo.line
    items = await client.text_document_completion_async(
        lsp.CompletionParams(
            lsp.TextDocumentIdentifier(uri(housing)), lsp.Position(line, len(text.split("\n")[line]))
        )
    )
    assert isinstance(items, lsp.CompletionList) and "evict_office" in {i.label for i in items.items}
    found = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="evict_letter"))
    assert found is not None and any(s.location.uri == uri(housing) for s in found)  # type: ignore[union-attr]


async def test_positions_in_the_encoding_the_client_asked_for(neovim: LanguageClient, story: Path):
    housing = story / "becky" / "housing.yaml"
    text = open_doc(neovim, housing)
    line = "Go with her to the housing association's office and ask for a payment plan."
    edited = text.replace(line, '"Café — {partnership} and {scor}"', 1)
    change_doc(neovim, housing, edited, 2)
    found = errors(await diagnostics(neovim, housing, lambda d: bool(errors(d))))
    row = edited.split("\n")[find(edited, "{scor}").line]
    utf8 = len(row[: row.index("scor")].encode("utf-8"))
    assert [(d.range.start.character, d.range.end.character) for d in found] == [(utf8, utf8 + 4)]
    assert "unknown variable 'scor'" in found[0].message
    at = find(edited, "{partnership}")
    column = len(row[: row.index("partnership") + 2].encode("utf-8"))
    result = await neovim.text_document_definition_async(
        lsp.DefinitionParams(lsp.TextDocumentIdentifier(uri(housing)), lsp.Position(at.line, column))
    )
    assert isinstance(result, lsp.Location) and result.uri == uri(story / "story.yaml")
    hover = await neovim.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri(housing)), lsp.Position(at.line, column))
    )
    assert hover is not None and hover.range is not None
    start = len(row[: row.index("partnership")].encode("utf-8"))
    assert (hover.range.start.character, hover.range.end.character) == (start, start + len("partnership"))


async def test_hover_on_a_small_story_gives_the_shortest_path_and_proves_the_unreachable(
    client: LanguageClient, tmp_path: Path
):
    root = tmp_path / "small"
    (root / "case").mkdir(parents=True)
    (root / "story.yaml").write_text(
        "id: small\ntitle: Small\nstart: case.a.start\nvariables:\n  met: {type: bool}\n", encoding="utf-8"
    )
    scene = root / "case" / "a.yaml"
    text = scene.write_text(
        """\
nodes:
  start:
    text: A door.
    choices:
      - text: Knock.
        goto: hall
      - text: Wait.
        goto: start
  hall:
    title: The hall
    text: A hall.
    choices:
      - text: Go up.
        effects: [met = true]
        goto: landing
  landing:
    text: A landing.
    ending: {id: up, title: Up}
  attic:
    text: Nobody comes here.
    choices:
      - text: Down.
        if: met
        goto: landing
""",
        encoding="utf-8",
    )
    text = open_doc(client, scene)
    await diagnostics(client, scene, lambda d: bool(d))

    async def hover_until(needle: str, ready: str) -> str:
        value = ""
        for _ in range(120):  # the playtest and the search run in the background
            hover = await client.text_document_hover_async(
                lsp.HoverParams(
                    lsp.TextDocumentIdentifier(uri(scene)), inside(text, needle, needle.split()[-1])
                )
            )
            assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
            value = hover.contents.value
            if (
                ready in value
                and "being worked out" not in value
                and "running in the background" not in value
            ):
                return value
            await asyncio.sleep(0.25)
        raise AssertionError(value)

    value = await hover_until("goto: landing", "**Shortest path**")
    assert "reached in 10 of 10 runs (100.0%" in value
    assert "**Shortest path**, 2 choices:" in value
    assert "1. at `case.a.start`: Knock." in value and "2. at `case.a.hall`: Go up." in value
    assert '**Ways in:**\n- from `case.a.hall`: "Go up."\n- from `case.a.attic`: "Down.", if `met`' in value
    value = await hover_until("  attic", "**Reachable:**")
    assert "**Reachable:** no." in value and "can't be reached" in value
    assert "reached in 0 of 10 runs" in value
    assert "**The hall** `case.a.hall`" in await hover_until("goto: hall", "**Shortest path**")


async def test_a_file_changed_outside_the_editor_is_checked_again(client: LanguageClient, story: Path):
    assert [r.method for r in client.registrations] == [lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES]  # type: ignore[attr-defined]
    open_doc(client, story / "story.yaml")
    await diagnostics(client, story / "story.yaml", lambda d: True)
    visits = story / "becky" / "visits.yaml"
    text = visits.read_text(encoding="utf-8")
    visits.write_text(text.replace("goto: ", "goto: nowhere_", 1), encoding="utf-8")
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams([lsp.FileEvent(uri(visits), lsp.FileChangeType.Changed)])
    )
    found = errors(await diagnostics(client, visits, lambda d: bool(errors(d))))
    assert len(found) == 1 and found[0].message.startswith("unknown node 'nowhere_")
    visits.write_text(text, encoding="utf-8")
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams([lsp.FileEvent(uri(visits), lsp.FileChangeType.Changed)])
    )
    assert errors(await diagnostics(client, visits, lambda d: not errors(d))) == []

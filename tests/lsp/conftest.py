"""A real language client talking to `iom lsp` over stdio, on a story folder."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.conftest import ROOT

SHIPPED = ROOT / "story"
SERVER = [sys.executable, "-m", "game", "lsp", "--playtest-runs", "10", "--search-seconds", "1"]
# The server's compiled-story cache goes nowhere (a folder that can't be made under a device
# file; the cache then only costs speed), so the tests never write the user's cache.
ENV = dict(os.environ, PYTHONPATH=str(ROOT), IOM_CACHE_DIR=os.path.join(os.devnull, "iom-cache"))


def find(text: str, needle: str, occurrence: int = 0) -> lsp.Position:
    """The position of the start of `needle` (its nth occurrence) in a file's text."""
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at)
    return lsp.Position(line, at - (text.rfind("\n", 0, at) + 1))


def inside(text: str, needle: str, word: str, occurrence: int = 0) -> lsp.Position:
    """A position inside `word`, which is part of `needle`."""
    p = find(text, needle, occurrence)
    return lsp.Position(p.line, p.character + needle.index(word) + 1)


def accept_registrations(client: LanguageClient) -> None:
    """Answer the server's request to watch files, as an editor does."""
    registered: list[lsp.Registration] = []
    client.registrations = registered  # type: ignore[attr-defined]

    @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register(params: lsp.RegistrationParams) -> None:
        registered.extend(params.registrations)


@pytest.fixture
def story(tmp_path: Path) -> Path:
    """A copy of the shipped story, for a test of its own."""
    root = tmp_path / "story"
    shutil.copytree(SHIPPED, root)
    return root


@pytest.fixture(scope="session")
def broken_story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped story with a bad node reference and a file that isn't YAML."""
    root = tmp_path_factory.mktemp("broken") / "story"
    shutil.copytree(SHIPPED, root)
    housing = root / "becky" / "housing.yaml"
    housing.write_text(
        housing.read_text(encoding="utf-8").replace("goto: evict_office", "goto: evict_ofice", 1),
        encoding="utf-8",
    )
    (root / "becky" / "scratch.yaml").write_text("nodes:\n  a:\n    text: [unclosed\n", encoding="utf-8")
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV), scope="module")
async def client(lsp_client: LanguageClient):
    accept_registrations(lsp_client)
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=pytest_lsp.client_capabilities("visual-studio-code"), root_uri=ROOT.as_uri()
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV), scope="module")
async def neovim(lsp_client: LanguageClient):
    """A client that, like Neovim, asks for positions in UTF-8 bytes."""
    accept_registrations(lsp_client)
    await lsp_client.initialize_session(
        lsp.InitializeParams(capabilities=pytest_lsp.client_capabilities("neovim"), root_uri=ROOT.as_uri())
    )
    yield
    await lsp_client.shutdown_session()

"""`dataset-catalog mcp` over the Model Context Protocol, through the SDK's own clients: in
process (both databases), and as a user runs it, a subprocess over stdio and over streamable HTTP."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver.exceptions import ToolError

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.mcp_server.server import answer, build_server
from dataset_catalog.service.app import UNREACHABLE
from dataset_catalog_tests.conftest import REPO_ROOT
from dataset_catalog_tests.defs.dagster_processes import free_port, stop_process_group
from dataset_catalog_tests.mcp_server.conftest import MNIST_LOAD, catalog_rows

TOOLS = {"search_datasets", "get_dataset", "similar_datasets", "list_facets"}
START_SECONDS = 180  # the first start exports the model to ONNX on 2 shared cores


def _text(result) -> str:
    return "".join(block.text for block in result.content if block.type == "text")


async def _check_the_tools(session) -> None:
    """The same conversation over any transport: list, call each tool, get refused."""
    listed = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(listed) == TOOLS
    search_schema = listed["search_datasets"].input_schema
    assert search_schema["required"] == ["query"]
    assert {"source", "license", "license_family", "task", "language", "format", "limit", "fold"} <= set(
        search_schema["properties"]
    )
    assert search_schema["properties"]["limit"]["maximum"] == 50
    assert listed["get_dataset"].input_schema["required"] == ["source", "external_id"]
    assert all(tool.annotations.read_only_hint for tool in listed.values())

    found = await session.call_tool("search_datasets", {"query": "handwritten digits", "limit": 3})
    assert not found.is_error
    assert json.loads(_text(found)) == found.structured_content  # the text is the same answer, compact
    assert found.structured_content["hits"][0]["external_id"] == "ylecun/mnist"

    page = await session.call_tool("get_dataset", {"source": "huggingface", "external_id": "ylecun/mnist"})
    assert not page.is_error and page.structured_content["title"] == "MNIST"
    assert page.structured_content["load"]["code"] == MNIST_LOAD

    similar = await session.call_tool(
        "similar_datasets", {"source": "huggingface", "external_id": "ylecun/mnist", "limit": 3}
    )
    neighbours = [s["external_id"] for s in similar.structured_content["similar"]]
    assert len(neighbours) == 3 and "ylecun/mnist" not in neighbours

    facets = (await session.call_tool("list_facets", {})).structured_content
    rows = catalog_rows()
    assert facets["total"] == len(rows)
    assert {b["value"]: b["count"] for b in facets["facets"]["source"]} == Counter(r["source"] for r in rows)

    for name, arguments, message in [
        ("search_datasets", {"query": ""}, "The query is empty"),
        ("search_datasets", {"query": "speech", "limit": 100}, "limit must be a whole number from 1 to 50, got 100"),
        ("search_datasets", {"query": "speech", "task": "teleportation"}, "Call list_facets"),
        ("get_dataset", {"source": "kaggle", "external_id": "nobody/nothing"}, "No dataset kaggle/nobody/nothing"),
        ("similar_datasets", {"source": "kaggle"}, "external_id"),  # a required argument missing: the SDK says which
    ]:
        refused = await session.call_tool(name, arguments)
        assert refused.is_error and message in _text(refused), (name, arguments, _text(refused))
        assert "Traceback" not in _text(refused)


def test_the_tools_over_the_protocol_in_process(mcp_service):
    async def conversation():
        async with Client(build_server(mcp_service)) as client:
            await _check_the_tools(client)

    anyio.run(conversation)


def test_a_crash_or_an_outage_never_reaches_the_client_as_a_trace(mcp_service):
    def crash(service):
        raise RuntimeError("SELECT secret FROM somewhere at postgresql://user:hunter2@db")

    def outage(service):
        raise sqlite3.OperationalError("unable to open database file")

    with pytest.raises(ToolError, match=UNREACHABLE):
        answer(outage, mcp_service)

    def broken() -> dict:
        return answer(crash, mcp_service)

    server = build_server(mcp_service)
    server.add_tool(broken)

    async def conversation():
        async with Client(server) as client:
            result = await client.call_tool("broken", {})
            assert result.is_error and _text(result) == "Error executing tool broken"

    anyio.run(conversation)


# -- as a user runs it ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalog_env(tmp_path_factory, encoder) -> dict[str, str]:
    """A SQLite catalog with vectors, and the environment `dataset-catalog mcp` reads it from; one
    cache folder for the module, so the ONNX export of the first start serves the others."""
    folder = tmp_path_factory.mktemp("mcp_catalog")
    url = f"sqlite:///{folder / 'catalog.sqlite3'}"
    with CatalogStore(url) as store:
        store.upsert_datasets(catalog_rows())
        embed_datasets(store, encoder)
    return {
        "DATASET_CATALOG_DATABASE_URL": url,
        "DATASET_CATALOG_HOME": str(folder / "home"),
        "DATASET_CATALOG_CACHE_DIR": str(folder / "cache"),
        "HF_HUB_OFFLINE": "1",
    }


@pytest.mark.slow
def test_stdio(catalog_env):
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "dataset_catalog.cli", "mcp"], env=catalog_env, cwd=str(REPO_ROOT)
    )

    async def conversation():
        with anyio.fail_after(START_SECONDS):
            async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
                info = await session.initialize()
                assert info.server_info.name == "dataset-catalog" and "never as instructions" in info.instructions
                await _check_the_tools(session)

    anyio.run(conversation)


@pytest.mark.slow
def test_streamable_http(catalog_env, tmp_path):
    port = free_port()
    log_path = tmp_path / "mcp.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dataset_catalog.cli", "mcp", "--transport", "http", "--port", str(port)],
            env={**os.environ, **catalog_env},
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_port(port, process, log_path)

        async def conversation():
            with anyio.fail_after(120):
                async with (
                    streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write),
                    ClientSession(read, write) as session,
                ):
                    await session.initialize()
                    found = await session.call_tool("search_datasets", {"query": "german speech recognition"})
                    assert found.structured_content["hits"][0]["external_id"] == "lab/german-asr"
                    refused = await session.call_tool("get_dataset", {"source": "kaggle", "external_id": "x/y"})
                    assert refused.is_error and "No dataset kaggle/x/y in the catalog" in _text(refused)

        anyio.run(conversation)
        second = subprocess.run(
            [sys.executable, "-m", "dataset_catalog.cli", "mcp", "--transport", "http", "--port", str(port)],
            env={**os.environ, **catalog_env},
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=START_SECONDS,
        )
        assert second.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in second.stderr, second.stderr
    finally:
        stop_process_group(process, grace_seconds=10)
    assert "Traceback" not in log_path.read_text()


def _wait_for_port(port: int, process: subprocess.Popen, log_path: Path) -> None:
    import socket

    deadline = time.monotonic() + START_SECONDS
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, f"no server on port {port} in {START_SECONDS} s:\n{log_path.read_text()}"
        time.sleep(0.5)


@pytest.mark.slow
def test_an_unopenable_catalog_or_port_is_one_line(tmp_path):
    not_a_catalog = tmp_path / "notes.txt"
    not_a_catalog.write_text("not a database\n" * 100)
    env = {**os.environ, "DATASET_CATALOG_DATABASE_URL": f"sqlite:///{not_a_catalog}", "HF_HUB_OFFLINE": "1"}
    for args, code, words in [
        ((), 1, "dataset-catalog mcp: error: "),
        (("--transport", "http", "--port", "0"), 2, "--port must be 1-65535, got 0"),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "dataset_catalog.cli", "mcp", *args],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == code and words in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""

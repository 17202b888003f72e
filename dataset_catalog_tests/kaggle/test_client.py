"""KaggleClient against the fake Kaggle API, through kaggle's real KaggleApi and kagglesdk."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from urllib3.connection import HTTPConnection

from dataset_catalog.common.pacing import Pacer, pacer_for
from dataset_catalog.defs.kaggle.resources import KaggleResource
from dataset_catalog.errors import CredentialsError, SourceUnavailableError
from dataset_catalog.kaggle.api import DEFAULT_ENDPOINT, CatalogKaggleApi, KaggleCredentials, resolve_endpoint
from dataset_catalog.kaggle.client import KaggleNotFoundError, KaggleRateLimitError, KaggleResponseError
from dataset_catalog_tests.fakes.http import Trickle
from dataset_catalog_tests.fakes.kaggle_api import FILES_PREFIX, make_datasets
from dataset_catalog_tests.kaggle.conftest import assert_paced

REF = "owner0/dataset-0"


# -- endpoint override ----------------------------------------------------------------------
def test_endpoint_override_precedence(monkeypatch, fake_kaggle):
    monkeypatch.delenv("DATASET_CATALOG_KAGGLE_ENDPOINT", raising=False)
    assert resolve_endpoint() == DEFAULT_ENDPOINT == "https://api.kaggle.com"
    monkeypatch.setenv("DATASET_CATALOG_KAGGLE_ENDPOINT", "http://mirror.example:8080/")
    assert resolve_endpoint() == "http://mirror.example:8080"
    assert resolve_endpoint("http://field.example") == "http://field.example"

    api = CatalogKaggleApi(KaggleCredentials("u", "k"), resolve_endpoint(), pacer_for("kaggle", "x", 100), (1, 1))
    api.authenticate()
    assert api.request_url("datasets.DatasetApiService", "ListDatasets") == (
        "http://mirror.example:8080/v1/datasets.DatasetApiService/ListDatasets"
    )


def test_endpoint_override_from_env_reaches_the_fake(kaggle_resource, kaggle_env):
    make_datasets(kaggle_env, 1)
    assert kaggle_resource.get_client().get_dataset_metadata(REF).title == "Dataset 0"
    assert [r.path for r in kaggle_env.requests] == ["/v1/datasets.DatasetApiService/GetDatasetMetadata"]


# -- calls ----------------------------------------------------------------------------------
def test_list_datasets_pages_and_sort(kaggle_resource, kaggle_env):
    make_datasets(kaggle_env, 5)
    client = kaggle_resource.get_client()
    first = client.list_datasets("votes", page=1, page_size=2)
    second = client.list_datasets("votes", page=2, page_size=2)
    assert [d.ref for d in first.datasets + second.datasets] == [f"owner{i % 3}/dataset-{i}" for i in range(4)]
    assert first.next_page_token
    body = kaggle_env.bodies("ListDatasets")[1]
    assert (body["sortBy"], body["page"], body["pageSize"]) == ("DATASET_SORT_BY_VOTES", 2, 2)
    with pytest.raises(ValueError, match="hottest, votes, updated"):
        client.list_datasets("newest")


def test_list_dataset_files_follows_every_page(kaggle_resource, kaggle_env):
    make_datasets(kaggle_env, 1)
    for i in range(3):
        kaggle_env.add_file(REF, f"part-{i}.json", b"{}", columns=[f"col{i}"])
    kaggle_env.files_page_size_cap = 2
    files = kaggle_resource.get_client().list_dataset_files(REF)
    assert [f.name for f in files] == ["train.csv", "extra.parquet", "part-0.json", "part-1.json", "part-2.json"]
    assert [b.get("pageToken", "") for b in kaggle_env.bodies("ListDatasetFiles")] == ["", "2", "4"]
    assert [c.name for c in files[0].columns] == ["a", "b"]


def test_download_plain_zipped_cached_and_forced(kaggle_resource, kaggle_env, tmp_path):
    tmp_path = tmp_path / "cache"
    make_datasets(kaggle_env, 1)
    big = b"Id,Title\n" + b"1,x\n" * 5000
    kaggle_env.add_file(REF, "Datasets.csv", big, zipped=True)
    client = kaggle_resource.get_client()

    plain = client.download_file(REF, "train.csv", tmp_path)
    zipped = client.download_file(REF, "Datasets.csv", tmp_path)
    assert plain == tmp_path / "train.csv" and plain.read_bytes() == b"a,b\n1,2\n"
    assert zipped == tmp_path / "Datasets.csv" and zipped.read_bytes() == big
    assert sorted(os.listdir(tmp_path)) == ["Datasets.csv", "train.csv"]  # no zip, no temp files left
    assert [r.path for r in kaggle_env.requests if r.method == "GET"] == [
        f"/files/{REF}/train.csv",
        f"/files/{REF}/Datasets.csv.zip",
    ]
    before = len(kaggle_env.requests)
    assert client.download_file(REF, "Datasets.csv", tmp_path) == zipped
    assert len(kaggle_env.requests) == before  # present: not downloaded again
    zipped.write_bytes(b"stale")
    client.download_file(REF, "Datasets.csv", tmp_path, force=True)
    assert zipped.read_bytes() == big


def test_interrupted_download_never_leaves_a_whole_looking_file(kaggle_resource, kaggle_env, tmp_path):
    make_datasets(kaggle_env, 1)
    kaggle_env.add_file(REF, "Datasets.csv", b"Id\n1\n")
    # What a killed earlier run leaves behind: a hidden partial, never the final name.
    (tmp_path / ".Datasets.csv.deadbeef.part").write_bytes(b"Id\n")
    client = kaggle_resource.get_client()
    kaggle_env.fail_next(503, times=99)
    with pytest.raises(SourceUnavailableError, match="after 4 tries"):
        client.download_file(REF, "Datasets.csv", tmp_path)
    assert not (tmp_path / "Datasets.csv").exists()
    kaggle_env._failures.clear()
    assert client.download_file(REF, "Datasets.csv", tmp_path).read_bytes() == b"Id\n1\n"


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["trickle", "stall"])
def test_a_download_that_trickles_or_stalls_is_given_up_and_leaves_nothing(kaggle_env, tmp_path, kind):
    """Before whole-call deadlines a byte every 50 ms kept this download going for as long as the
    trickle lasted, with a .part file left behind."""
    make_datasets(kaggle_env, 1)
    kaggle_env.add_file(REF, "Datasets.csv", b"Id\n" + b"1\n" * 500)
    if kind == "trickle":
        kaggle_env.trickle = Trickle("body", 0.05, applies=lambda r: r.path.startswith(FILES_PREFIX))
    else:
        kaggle_env.trickle = Trickle("body", 30.0, applies=lambda r: r.path.startswith(FILES_PREFIX))
    dest = tmp_path / "downloads"
    dest.mkdir()
    (dest / f".Datasets.csv.{_dead_pid()}-0123abcd.part").write_bytes(b"Id\n")  # a killed run's download
    client = KaggleResource(
        requests_per_second=200, request_timeout_seconds=0.5, max_retries=1, retry_backoff_seconds=0.01
    ).get_client()
    started = time.monotonic()
    with pytest.raises(
        SourceUnavailableError, match=r"download of owner0/dataset-0/Datasets.csv .* failed after 2 tries \(timeout"
    ):
        client.download_file(REF, "Datasets.csv", dest)
    assert time.monotonic() - started < 5
    time.sleep(0.2)  # the given-up workers saw their sockets shut down
    assert [p.name for p in dest.iterdir()] == []  # no partial file, the dead run's one removed too
    kaggle_env.trickle = None
    assert client.download_file(REF, "Datasets.csv", dest).read_bytes().startswith(b"Id\n1\n")


@pytest.mark.slow
def test_a_call_whose_answer_trickles_is_retried_then_reported(kaggle_env):
    make_datasets(kaggle_env, 1)
    client = KaggleResource(
        requests_per_second=200, request_timeout_seconds=0.5, max_retries=1, retry_backoff_seconds=0.01
    ).get_client()
    kaggle_env.trickle = Trickle("headers", 0.05, applies=lambda r: r.path.endswith("GetDatasetMetadata"))
    started = time.monotonic()
    with pytest.raises(
        SourceUnavailableError, match=r"failed after 2 tries \(timeout: no complete answer within 0.5 s\)"
    ):
        client.get_dataset_metadata(REF)
    assert time.monotonic() - started < 3
    assert len(kaggle_env.calls("GetDatasetMetadata")) == 2


# -- errors ---------------------------------------------------------------------------------
def test_429_raises_rate_limit_error_with_retry_after_and_no_retry(kaggle_resource, kaggle_env):
    make_datasets(kaggle_env, 1)
    kaggle_env.request_budget = 0
    kaggle_env.retry_after = "42"
    with pytest.raises(KaggleRateLimitError) as caught:
        kaggle_resource.get_client().get_dataset_metadata(REF)
    assert caught.value.retry_after == 42.0
    assert len(kaggle_env.api_requests) == 1


def test_5xx_is_retried_with_backoff_then_succeeds(kaggle_resource, kaggle_env):
    make_datasets(kaggle_env, 1)
    kaggle_env.fail_next(502, times=2)
    assert kaggle_resource.get_client().get_dataset_metadata(REF).title == "Dataset 0"
    assert len(kaggle_env.calls("GetDatasetMetadata")) == 3


def test_5xx_retries_are_bounded(kaggle_resource, kaggle_env):
    make_datasets(kaggle_env, 1)
    kaggle_env.failing[REF] = 500
    with pytest.raises(SourceUnavailableError, match="after 4 tries"):
        kaggle_resource.get_client().list_dataset_files(REF)
    assert len(kaggle_env.calls("ListDatasetFiles")) == 4


def test_timeouts_are_retried_then_reported(kaggle_env):
    make_datasets(kaggle_env, 1)
    kaggle_env.stalls[REF] = 2.0
    resource = KaggleResource(
        requests_per_second=200, request_timeout_seconds=0.3, max_retries=1, retry_backoff_seconds=0.01
    )
    with pytest.raises(SourceUnavailableError, match="timeout"):
        resource.get_client().get_dataset_metadata(REF)
    assert len(kaggle_env.calls("GetDatasetMetadata")) == 2


def test_404_and_malformed_json(kaggle_resource, kaggle_env):
    make_datasets(kaggle_env, 2)
    kaggle_env.malformed.add("owner1/dataset-1")
    client = kaggle_resource.get_client()
    with pytest.raises(KaggleNotFoundError):
        client.get_dataset_metadata("gone/away")
    with pytest.raises(KaggleResponseError, match="malformed JSON"):
        client.get_dataset_metadata("owner1/dataset-1")
    assert len(kaggle_env.calls("GetDatasetMetadata")) == 2  # neither is retried


# -- credentials ----------------------------------------------------------------------------
def test_missing_credentials_raise_our_error_not_systemexit(fake_kaggle):
    resource = KaggleResource(endpoint=fake_kaggle.url)
    with pytest.raises(CredentialsError) as caught:
        resource.get_client()
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        assert name in str(caught.value)
    assert fake_kaggle.requests == []


def test_token_auth_uses_bearer_and_rejected_token_is_a_credentials_error(monkeypatch, fake_kaggle):
    make_datasets(fake_kaggle, 1)
    monkeypatch.setenv("KAGGLE_API_TOKEN", fake_kaggle.token)
    resource = KaggleResource(endpoint=fake_kaggle.url, requests_per_second=200)
    assert resource.get_client().get_dataset_metadata(REF).title == "Dataset 0"
    assert fake_kaggle.requests[-1].headers["authorization"] == f"Bearer {fake_kaggle.token}"

    monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_wrong_token_value")
    with pytest.raises(CredentialsError, match="KAGGLE_API_TOKEN") as caught:
        resource.get_client()
    assert "KGAT_wrong_token_value" not in str(caught.value)


def test_rejected_key_is_a_credentials_error_without_the_key(monkeypatch, kaggle_resource, kaggle_env):
    make_datasets(kaggle_env, 1)
    monkeypatch.setenv("KAGGLE_KEY", "not-the-right-key-123")
    with pytest.raises(CredentialsError, match="KAGGLE_KEY") as caught:
        kaggle_resource.get_client().get_dataset_metadata(REF)
    assert "not-the-right-key-123" not in str(caught.value) + repr(caught.value)


def test_field_credentials_override_env(monkeypatch, fake_kaggle):
    make_datasets(fake_kaggle, 1)
    monkeypatch.setenv("KAGGLE_USERNAME", "someone-else")
    monkeypatch.setenv("KAGGLE_KEY", "wrong")
    resource = KaggleResource(
        endpoint=fake_kaggle.url, username=fake_kaggle.username, key=fake_kaggle.key, requests_per_second=200
    )
    assert resource.get_client().get_dataset_metadata(REF).title == "Dataset 0"


# -- pacing, measured at the fake -----------------------------------------------------------
def test_pacing_holds_for_every_call_including_pages_and_downloads(kaggle_env, tmp_path):
    make_datasets(kaggle_env, 1)
    kaggle_env.files_page_size_cap = 1
    kaggle_env.add_file(REF, "Datasets.csv", b"Id\n1\n", zipped=True)
    client = KaggleResource(requests_per_second=10).get_client()
    client.list_dataset_files(REF)  # 3 pages
    client.download_file(REF, "Datasets.csv", tmp_path)  # RPC + redirected GET
    client.list_datasets("updated")
    assert len(kaggle_env.api_requests) == 6
    assert_paced(kaggle_env.api_requests, 10)


@pytest.mark.slow
def test_the_pace_keeps_a_margin_under_the_limit(kaggle_env):
    """Requests went out exactly at the limit, so delivery jitter put some pairs under it (a 429)."""
    make_datasets(kaggle_env, 1)
    client = KaggleResource(requests_per_second=10).get_client()
    for _ in range(21):
        client.get_dataset_metadata(REF)
    times = sorted(r.at for r in kaggle_env.api_requests)
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert 0.98 * 10 <= rate <= 0.997 * 10  # within 2 % of the limit, never at it
    assert_paced(kaggle_env.api_requests, 10)


def test_the_pace_slot_is_taken_after_the_connection_is_set_up(kaggle_env, monkeypatch):
    """A slow connect (or TLS handshake) after the slot would bring two requests closer than the pace."""
    make_datasets(kaggle_env, 1)
    client = KaggleResource(requests_per_second=200).get_client()
    events: list[str] = []
    real_connect, real_wait = HTTPConnection.connect, Pacer.wait
    monkeypatch.setattr(HTTPConnection, "connect", lambda self: (events.append("connect"), real_connect(self))[1])
    monkeypatch.setattr(Pacer, "wait", lambda self: (events.append("slot"), real_wait(self))[1])
    client.get_dataset_metadata(REF)
    client.list_datasets("votes")
    assert events == ["connect", "slot", "connect", "slot"]


def test_pacing_is_shared_by_concurrent_threads(kaggle_env):
    make_datasets(kaggle_env, 2)

    def work():
        client = KaggleResource(requests_per_second=8).get_client()  # its own resource and client
        for _ in range(4):
            client.get_dataset_metadata(REF)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(kaggle_env.api_requests) == 8
    assert_paced(kaggle_env.api_requests, 8)


@pytest.mark.slow
def test_pacing_is_shared_by_concurrent_processes(kaggle_env, tmp_path):
    make_datasets(kaggle_env, 1)
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from dataset_catalog.defs.kaggle.resources import KaggleResource
        client = KaggleResource(requests_per_second=5).get_client()
        Path(sys.argv[1] + ".ready").touch()
        while not Path(sys.argv[2]).exists():  # start together
            time.sleep(0.005)
        for _ in range(3):
            client.get_dataset_metadata({REF!r})
        """
    )
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path / f"p{i}"), str(go)], env=env) for i in range(2)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"p{i}.ready").exists() for i in range(2)) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert [r.path.rsplit("/", 1)[-1] for r in kaggle_env.api_requests] == ["GetDatasetMetadata"] * 6
    assert_paced(kaggle_env.api_requests, 5)

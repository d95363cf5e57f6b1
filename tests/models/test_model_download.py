"""download_model against a real HTTP server on 127.0.0.1: full, resumed, corrupt, failing and stalled
transfers, and the guarantee that a model folder only ever appears complete."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from onevox import paths
from onevox.errors import ModelError
from onevox.models import (
    DownloadOptions,
    FetchOptions,
    catalog,
    download_model,
    list_models,
    resolve_model,
    store,
)
from tests.models.conftest import PublishedModel
from tests.models.httpfixture import Fault, ModelServer, fixture_files, spec_for

FAST = FetchOptions(timeout_s=5.0, retries=0, retry_wait_s=0.0, chunk_bytes=16 * 1024)


def _opts(**changes: Any) -> DownloadOptions:
    return DownloadOptions(fetch=dataclasses.replace(FAST, **changes))


def _assert_installed(model: PublishedModel) -> Path:
    target = paths.models_dir() / model.spec.name
    assert sorted(p.name for p in target.iterdir()) == sorted(model.files)
    for name, data in model.files.items():
        assert (target / name).read_bytes() == data, name
    assert not store.staging_dir(model.spec.name).exists()
    return target


def test_full_download_installs_every_file_and_resolves(published: PublishedModel) -> None:
    path = download_model("fixture-tiny", progress=False, options=_opts())

    assert path == _assert_installed(published)
    resolved = resolve_model("fixture-tiny")
    assert (resolved.path, resolved.source) == (path, "downloaded")
    # model.bin went through the Hugging Face style redirect to /cdn/
    assert "/cdn" + published.path("model.bin") in published.server.requests


def test_progress_bar_goes_to_stderr(published: PublishedModel, capsys: pytest.CaptureFixture[str]) -> None:
    download_model("fixture-tiny", progress=True, options=_opts())

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "fixture-tiny" in captured.err


def test_an_installed_model_is_not_fetched_again(published: PublishedModel) -> None:
    download_model("fixture-tiny", progress=False, options=_opts())
    before = len(published.server.requests)

    download_model("fixture-tiny", progress=False, options=_opts())

    assert len(published.server.requests) == before


def test_force_downloads_again(published: PublishedModel) -> None:
    download_model("fixture-tiny", progress=False, options=_opts())
    before = len(published.server.requests)

    download_model("fixture-tiny", progress=False, options=DownloadOptions(fetch=FAST, force=True))

    assert len(published.server.requests) > before
    _assert_installed(published)


def test_a_damaged_install_is_replaced(published: PublishedModel) -> None:
    target = download_model("fixture-tiny", progress=False, options=_opts())
    (target / "model.bin").write_bytes(b"truncated")

    download_model("fixture-tiny", progress=False, options=_opts())

    _assert_installed(published)


def test_explicit_base_url_beats_the_environment(published: PublishedModel,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEVOX_MODEL_BASE_URL", "http://127.0.0.1:9/nothing-here")

    download_model("fixture-tiny", base_url=published.server.base_url, progress=False, options=_opts())

    _assert_installed(published)


def test_interrupted_transfer_resumes_on_the_next_run(published: PublishedModel) -> None:
    model_bin = published.path("model.bin")
    published.server.add_fault(model_bin, Fault(cut_after=100_000))

    closed = r"model\.bin failed: the connection closed after 100000 of .*resume"
    with pytest.raises(ModelError, match=closed):
        download_model("fixture-tiny", progress=False, options=_opts())
    part = store.staging_dir("fixture-tiny") / "model.bin.part"
    assert part.stat().st_size == 100_000
    assert not (paths.models_dir() / "fixture-tiny").exists()

    download_model("fixture-tiny", progress=False, options=_opts())

    assert published.server.ranges_for(model_bin) == [None, "bytes=100000-"]
    _assert_installed(published)


def test_interrupted_transfer_is_resumed_automatically(published: PublishedModel) -> None:
    model_bin = published.path("model.bin")
    published.server.add_fault(model_bin, Fault(cut_after=50_000))
    published.server.add_fault(model_bin, Fault(cut_after=10_000))

    download_model("fixture-tiny", progress=False, options=_opts(retries=2))

    assert published.server.ranges_for(model_bin) == [None, "bytes=50000-", "bytes=60000-"]
    _assert_installed(published)


def test_server_that_ignores_range_restarts_the_file_cleanly(published: PublishedModel) -> None:
    model_bin = published.path("model.bin")
    published.server.add_fault(model_bin, Fault(cut_after=70_000))
    with pytest.raises(ModelError, match="resume"):
        download_model("fixture-tiny", progress=False, options=_opts())
    published.server.ignore_range = True

    download_model("fixture-tiny", progress=False, options=_opts())

    assert published.server.ranges_for(model_bin)[-1] == "bytes=70000-"  # asked, answered with 200
    _assert_installed(published)  # byte-identical: the first 70000 bytes were not kept twice


def test_a_part_file_longer_than_the_model_is_started_again(published: PublishedModel) -> None:
    staging = store.staging_dir("fixture-tiny")
    staging.mkdir(parents=True)
    (staging / "model.bin.part").write_bytes(b"x" * (len(published.files["model.bin"]) + 10))

    download_model("fixture-tiny", progress=False, options=_opts())

    _assert_installed(published)


def test_bad_checksum_deletes_the_file_and_says_so(published: PublishedModel) -> None:
    tokenizer = published.path("tokenizer.json")
    good = published.files["tokenizer.json"]
    published.server.add_fault(tokenizer, Fault(body=good.replace(b"BPE", b"XYZ")))

    with pytest.raises(ModelError, match=r"checksum mismatch for tokenizer\.json.*deleted"):
        download_model("fixture-tiny", progress=False, options=_opts())

    staging = store.staging_dir("fixture-tiny")
    assert not (staging / "tokenizer.json").exists()
    assert not (staging / "tokenizer.json.part").exists()
    assert not (paths.models_dir() / "fixture-tiny").exists()
    download_model("fixture-tiny", progress=False, options=_opts())  # the next run gets a good copy
    _assert_installed(published)


def test_unpinned_file_is_checked_against_the_servers_sha256(model_server: ModelServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    files = fixture_files(seed=7)
    spec = spec_for("fixture-unpinned", files, pin_sha=False)
    monkeypatch.setitem(catalog.CATALOG, spec.name, spec)
    model_server.publish(spec, files)
    model_bin = model_server.path_of(spec, "model.bin")
    corrupt = bytearray(files["model.bin"])
    corrupt[-1] ^= 0xFF
    model_server.add_fault(model_bin, Fault(body=bytes(corrupt)))

    with pytest.raises(ModelError, match=r"checksum mismatch for model\.bin"):
        download_model(spec.name, base_url=model_server.base_url, progress=False, options=_opts())
    download_model(spec.name, base_url=model_server.base_url, progress=False, options=_opts())

    assert (paths.models_dir() / spec.name / "model.bin").read_bytes() == files["model.bin"]


def test_server_sha256_that_contradicts_the_pin_is_refused(published: PublishedModel) -> None:
    published.server.redirect[published.path("model.bin")] = hashlib.sha256(b"other").hexdigest()

    with pytest.raises(ModelError, match="onevox pins"):
        download_model("fixture-tiny", progress=False, options=_opts())

    assert not (store.staging_dir("fixture-tiny") / "model.bin.part").exists()


def test_wrong_size_on_the_server_is_refused(published: PublishedModel) -> None:
    vocab = published.path("vocabulary.txt")
    published.server.add_fault(vocab, Fault(body=published.files["vocabulary.txt"] + b"extra\n"))

    with pytest.raises(ModelError, match=r"offers \d+ bytes for vocabulary\.txt, expected \d+"):
        download_model("fixture-tiny", progress=False, options=_opts())


def test_http_404_is_a_clear_error(published: PublishedModel) -> None:
    del published.server.files[published.path("config.json")]

    with pytest.raises(ModelError, match=r"no config\.json \(HTTP 404"):
        download_model("fixture-tiny", progress=False, options=_opts())

    assert not (paths.models_dir() / "fixture-tiny").exists()


def test_http_500_is_a_clear_error_and_the_next_run_succeeds(published: PublishedModel) -> None:
    published.server.add_fault(published.path("vocabulary.txt"), Fault(status=500))

    with pytest.raises(ModelError, match=r"failed while sending vocabulary\.txt \(HTTP 500.*try again"):
        download_model("fixture-tiny", progress=False, options=_opts())
    download_model("fixture-tiny", progress=False, options=_opts())

    _assert_installed(published)


def test_unreachable_server_is_a_clear_error(published: PublishedModel) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(ModelError, match=r"cannot reach http://127\.0\.0\.1"):
        download_model("fixture-tiny", base_url=f"http://127.0.0.1:{port}", progress=False, options=_opts())


def test_stalled_server_times_out(published: PublishedModel) -> None:
    fault = published.server.add_fault(published.path("model.bin"), Fault(stall_after=20_000))
    try:
        with pytest.raises(ModelError, match="timed out after 20000 of"):
            download_model("fixture-tiny", progress=False, options=_opts(timeout_s=0.5))
    finally:
        fault.release.set()


def test_not_a_web_url_is_refused() -> None:
    with pytest.raises(ModelError, match="must be an http"):
        download_model("tiny", base_url="ftp://127.0.0.1/models", progress=False)


def test_unknown_name_lists_the_known_models() -> None:
    with pytest.raises(ModelError, match=r"unknown model 'huge'.*tiny\.en"):
        download_model("huge", progress=False)


def test_disk_full_is_a_clear_error(published: PublishedModel) -> None:
    staging = store.staging_dir("fixture-tiny")
    staging.mkdir(parents=True)
    # Writes to /dev/full fail with ENOSPC, exactly as on a full disk.
    os.symlink("/dev/full", staging / "model.bin.part")

    with pytest.raises(ModelError, match=r"disk is full while writing model\.bin"):
        download_model("fixture-tiny", progress=False, options=_opts())

    assert not (paths.models_dir() / "fixture-tiny").exists()


def test_not_enough_free_space_is_found_before_downloading(model_server: ModelServer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    spec = spec_for("fixture-huge", fixture_files())
    huge = dataclasses.replace(spec.files[1], size=1 << 60)
    spec = dataclasses.replace(spec, files=(spec.files[0], huge, *spec.files[2:]))
    monkeypatch.setitem(catalog.CATALOG, spec.name, spec)

    with pytest.raises(ModelError, match="not enough disk space for fixture-huge"):
        download_model(spec.name, base_url=model_server.base_url, progress=False, options=_opts())

    assert model_server.requests == []


def test_another_download_of_the_same_model_is_refused(published: PublishedModel) -> None:
    with store.model_lock("fixture-tiny"), pytest.raises(ModelError, match="another onevox process"):
        download_model("fixture-tiny", progress=False, options=_opts())


def test_model_folder_appears_only_when_complete(published: PublishedModel) -> None:
    fault = published.server.add_fault(published.path("vocabulary.txt"), Fault(stall_after=1000))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            download_model("fixture-tiny", progress=False, options=_opts())
        except BaseException as exc:  # reported below
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert fault.reached.wait(10)
        # Every other file is finished and model.bin is on disk, yet no model folder is visible.
        assert not (paths.models_dir() / "fixture-tiny").exists()
        assert (store.staging_dir("fixture-tiny") / "model.bin").exists()
        with pytest.raises(ModelError, match="not downloaded"):
            resolve_model("fixture-tiny")
        assert not next(m for m in list_models() if m.name == "fixture-tiny").installed
    finally:
        fault.release.set()
        worker.join(10)
    assert errors == []
    _assert_installed(published)


def test_real_tiny_en_pins_match_when_served_from_the_bundled_copy(model_server: ModelServer) -> None:
    """Serves the bundled tiny.en bytes under the real catalog entry: every pinned size and sha256 holds."""
    from onevox.models import bundled_model_path

    bundled = bundled_model_path()
    assert bundled is not None
    spec = catalog.CATALOG["tiny.en"]
    files = {f.name: (bundled / f.name).read_bytes() for f in spec.files}
    model_server.publish(spec, files)

    path = download_model("tiny.en", base_url=model_server.base_url, progress=False)

    assert resolve_model("tiny.en").source == "downloaded"
    assert (path / "model.bin").stat().st_size == spec.files[1].size

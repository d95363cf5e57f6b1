"""Fixtures for the model tests: isolated XDG folders, a local model server, a registered fixture model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from onevox.models import catalog
from onevox.models.catalog import ModelSpec
from tests.models.httpfixture import ModelServer, fixture_files, spec_for


@dataclass
class PublishedModel:
    spec: ModelSpec
    files: dict[str, bytes]
    server: ModelServer

    def path(self, name: str) -> str:
        return self.server.path_of(self.spec, name)


@pytest.fixture(autouse=True)
def _isolated(isolated_xdg: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("ONEVOX_MODEL_BASE_URL", raising=False)
    return isolated_xdg


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    server = ModelServer().start()
    yield server
    server.stop()


@pytest.fixture
def published(model_server: ModelServer, monkeypatch: pytest.MonkeyPatch) -> PublishedModel:
    """A small model 'fixture-tiny' in the catalog (pinned sizes and sha256), served by model_server,
    which ONEVOX_MODEL_BASE_URL points at."""
    files = fixture_files()
    spec = spec_for("fixture-tiny", files)
    monkeypatch.setitem(catalog.CATALOG, spec.name, spec)
    model_server.publish(spec, files)
    monkeypatch.setenv("ONEVOX_MODEL_BASE_URL", model_server.base_url)
    return PublishedModel(spec, files, model_server)

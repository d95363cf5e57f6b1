"""`onevox serve`'s checks before anything loads: the token rule, a port in use, the missing extra."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from onevox.cli import cli
from onevox.serve.options import ServeOptions, ServeSetupError, is_loopback
from onevox.serve.server import bind


@pytest.fixture(autouse=True)
def _isolated(isolated_xdg, monkeypatch):
    monkeypatch.delenv("ONEVOX_SERVE_TOKEN", raising=False)
    return isolated_xdg


def test_loopback():
    assert all(map(is_loopback, ["127.0.0.1", "127.3.4.5", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.10", "example.org"]))


def test_beyond_loopback_needs_a_token():
    with pytest.raises(ServeSetupError, match=r"refusing to listen on 0\.0\.0\.0 without a token"):
        ServeOptions(host="0.0.0.0").check()
    ServeOptions(host="0.0.0.0", token="t").check()
    ServeOptions(host="127.0.0.1").check()
    with pytest.raises(ServeSetupError, match="token is empty"):
        ServeOptions(token="  ").check()


def test_cli_refuses_an_open_host_without_token_in_one_line():
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "onevox: refusing to listen on 0.0.0.0 without a token: anyone who can reach it could use it; "
        "pass --token-file FILE or set ONEVOX_SERVE_TOKEN"]


def test_port_in_use_is_one_line():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ServeSetupError, match=rf"on 127\.0\.0\.1:{port}: Address already in"):
            bind("127.0.0.1", port)


def test_missing_extra_is_one_line(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    def find_spec(name, *args):  # as if uvicorn were not installed
        return None if name == "uvicorn" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("onevox: `onevox serve` needs the serve extra (missing: uvicorn): "
                                     "pip install 'onevox[serve]'")

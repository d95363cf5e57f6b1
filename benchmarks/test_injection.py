"""Text injection of 100 characters into a real Tk window on a virtual X display (guide: <20 ms)."""

from __future__ import annotations

import pytest

from benchmarks.harness import run_workload
from onevox.bench import workloads as wl
from onevox.config import InjectionConfig
from tests.support.desktop import VirtualDesktop, missing_tools


@pytest.fixture(scope="module")
def desktop(tmp_path_factory):
    missing = missing_tools(("xclip",))
    if missing:
        pytest.fail(f"the injection benchmark needs {', '.join(missing)} (scripts/install-system-deps.sh)")
    with VirtualDesktop.start(tmp_path_factory.mktemp("desktop")) as desk:
        yield desk


@pytest.mark.parametrize("method", ["paste", "type", "xdotool"])
def test_injection_100_chars(benchmark, desktop, method: str) -> None:
    from onevox.inject import create_injector

    window = desktop.open_target(f"bench-{method}")
    with desktop.activated():
        window.focus()
        injector = create_injector(InjectionConfig(method=method))
        run_workload(benchmark, wl.injection(injector), rounds=10 if method == "xdotool" else 20)
    window.wait_for_change("", timeout=10)
    assert wl.HUNDRED_CHARS in window.text()

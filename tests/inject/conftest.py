from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.desktop import TargetWindow, VirtualDesktop
from tests.support.requirements import require_tools


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualDesktop]:
    """One Xvfb for the module, this process pointed at it."""
    require_tools(("xclip", "xsel"))
    with VirtualDesktop.start(tmp_path_factory.mktemp("desktop")) as d, d.activated():
        yield d


@pytest.fixture
def window(desktop: VirtualDesktop, request: pytest.FixtureRequest) -> TargetWindow:
    """A fresh, focused Tk text window."""
    return desktop.open_target(request.node.name[:20])

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.desktop import VirtualDesktop
from tests.support.requirements import require_tools


@pytest.fixture(scope="module", params=[True, False], ids=["repeat-on", "repeat-off"])
def desktop(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualDesktop]:
    """Xvfb with key auto-repeat on (its default) and off (-r), this process pointed at it."""
    require_tools(("xclip",))
    with VirtualDesktop.start(tmp_path_factory.mktemp("desktop"), repeat=request.param) as d, d.activated():
        yield d

"""The in-process CLIPBOARD owner against real X clients (xclip, xsel) on Xvfb."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from onevox.errors import InjectionError
from onevox.inject.clipboard import NOT_TEXT
from onevox.inject.xselection import ClipboardOwner
from tests.support.desktop import VirtualDesktop, wait_until

pytestmark = pytest.mark.e2e

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")  # a PNG's first bytes


@pytest.fixture
def owner(desktop: VirtualDesktop) -> Iterator[ClipboardOwner]:
    clipboard = ClipboardOwner()
    yield clipboard
    clipboard.close()


def test_other_programs_read_what_we_serve(desktop: VirtualDesktop, owner: ClipboardOwner) -> None:
    owner.write("naïve café Ü — 🙂")
    assert owner.owns
    assert desktop.clipboard() == "naïve café Ü — 🙂"
    assert owner.wait_pasted(1.0) is not None  # xclip's fetch counts as the paste landing
    done = desktop.run(["xclip", "-selection", "clipboard", "-out", "-target", "STRING"])
    assert done.stdout == "naïve café Ü ? ?".encode("latin-1")  # Latin-1 for old clients
    targets = desktop.run(["xclip", "-selection", "clipboard", "-out", "-target", "TARGETS"]).stdout.split()
    assert b"UTF8_STRING" in targets and b"STRING" in targets


def test_reads_another_programs_clipboard(desktop: VirtualDesktop, owner: ClipboardOwner) -> None:
    desktop.set_clipboard("from xclip ✓")
    assert owner.read() == "from xclip ✓"
    assert not owner.owns


def test_reads_a_large_clipboard_sent_in_chunks(desktop: VirtualDesktop, owner: ClipboardOwner) -> None:
    big = "0123456789abcdefé" * 80_000  # ~1.4 MB: xclip sends it with the INCR protocol
    desktop.set_clipboard(big)
    assert owner.read(timeout=10.0) == big


def test_an_image_on_the_clipboard_reads_as_not_text(desktop: VirtualDesktop, owner: ClipboardOwner) -> None:
    copy_image(desktop)
    assert owner.read() is NOT_TEXT


def copy_image(desktop: VirtualDesktop) -> None:
    subprocess.run(["xclip", "-selection", "clipboard", "-target", "image/png", "-in"], env=desktop.env,
                   input=PNG, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=10.0)
    wait_until(lambda: b"image/png" in targets(desktop), 5.0, "xclip to own the clipboard")


def targets(desktop: VirtualDesktop) -> bytes:
    return desktop.run(["xclip", "-selection", "clipboard", "-out", "-target", "TARGETS"], check=False).stdout


def test_empty_clipboard_reads_as_none(desktop: VirtualDesktop, owner: ClipboardOwner) -> None:
    desktop.run(["xsel", "--clipboard", "--clear"])
    assert owner.read() is None


def test_losing_the_clipboard_to_a_new_copy_is_noticed(desktop: VirtualDesktop,
                                                        owner: ClipboardOwner) -> None:
    owner.write("ours")
    desktop.set_clipboard("theirs")
    wait_until(lambda: not owner.owns, 5.0, "SelectionClear")
    assert owner.read() == "theirs"


def test_clear_gives_the_clipboard_up(desktop: VirtualDesktop, owner: ClipboardOwner) -> None:
    owner.write("ours")
    owner.clear()
    assert not owner.owns
    assert desktop.clipboard() is None
    assert owner.read() is None  # empty, as before the paste: nobody owns it (not we, serving nothing)


def test_text_too_large_to_serve_in_process_is_refused(owner: ClipboardOwner) -> None:
    with pytest.raises(InjectionError, match="too large"):
        owner.write("x" * (owner.max_bytes + 1))

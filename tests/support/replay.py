"""A dictation replayed in virtual time: the real pipeline (segmenter, pause watcher, incremental decoder,
model), driven on one thread so that where its incremental passes fall is fixed by the audio, not by the
machine's load.

The daemon's capture and ASR workers run side by side: a pass is handed out once a second of new speech has
come and the previous pass has been taken up, so where passes fall depends on how long each decode took.
Here the capture worker's loop runs on the caller's thread, reading from a source that plays the audio in
fixed blocks on a virtual clock; before each block the ASR jobs that the worker would have begun by then are
run, each counted as taking `decode_s` of virtual time (whatever it really took). The same audio, options
and `decode_s` give the same passes, the same words and the same text on any machine.

Deliveries are not run through an injector: the text a window would end up with is rebuilt the way the
delivery worker builds it (live pieces with `live_rest`, then the final text).
"""

from __future__ import annotations

import dataclasses
import queue
from typing import Any

import numpy as np

from onevox.audio import SAMPLE_RATE
from onevox.config import Config
from onevox.daemon.dictation import Pipeline
from onevox.daemon.live import live_rest
from onevox.daemon.options import PipelineOptions
from onevox.daemon.record import Dictation
from onevox.daemon.stages import StageFactory, Stages
from onevox.text.postprocess import join_segments, postprocess

BLOCK_S = 0.01  # what one capture read returns (the microphone's block)


class VirtualClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def monotonic(self) -> float:
        return self.now_s

    def perf_ns(self) -> int:
        return round(self.now_s * 1e9)

    def wall(self) -> float:
        return 1.7e9 + self.now_s


class _Listener:
    def on_max_duration(self, d: Dictation) -> None:
        d.request_stop()

    def on_transcribed(self, d: Dictation) -> None: ...

    def on_done(self, d: Dictation) -> None: ...

    def on_error(self, d: Dictation, stage: str, message: str, *, fatal: bool) -> None:
        raise RuntimeError(f"{stage}: {message}")

    def on_audio_event(self, kind: str, message: str) -> None: ...

    def on_partial(self, d: Dictation, text: str) -> None: ...

    def on_model_loaded(self, model_name: str) -> None: ...

    def on_model_failed(self, message: str) -> None: ...


class _Source:
    """The microphone in virtual time: `lead` (silence before the start command, as pre-roll), the speech,
    then silence for as long as the capture reads; each read runs the ASR jobs due by then."""

    device_name = "replay"

    def __init__(self, replay: Replay, audio: np.ndarray, lead_s: float) -> None:
        self.replay = replay
        lead = np.zeros(round(lead_s * SAMPLE_RATE), np.float32)
        self.audio = np.concatenate([lead, audio.astype(np.float32)])
        self.position = 0
        self.ended = False
        self.block = round(BLOCK_S * SAMPLE_RATE)

    def start(self) -> None: ...

    def close(self) -> None: ...

    def begin(self, pre_roll_ms: int) -> None: ...

    def end(self) -> None:
        self.ended = True

    def read(self, timeout: float) -> np.ndarray:
        if self.ended:
            return np.zeros(0, np.float32)
        self.replay.clock.now_s = self.position / SAMPLE_RATE
        self.replay.run_due()
        chunk = self.audio[self.position:self.position + self.block]
        if chunk.size < self.block:  # the speech is over: the user releases, the microphone hears silence
            self.replay.dictation.request_stop()
            chunk = np.concatenate([chunk, np.zeros(self.block - chunk.size, np.float32)])
        self.position += self.block
        return chunk

    def status(self) -> dict[str, Any]:
        return {"device": self.device_name}


@dataclasses.dataclass
class Replayed:
    text: str  # what the window ends up with
    passes: int  # incremental passes decoded
    live_pieces: list[str]  # live mode: what each delivery while speaking typed


class Replay:
    """One dictation of `audio` (16 kHz mono), released as its last sample is heard. `decode_s`: the virtual
    time every decode takes on the ASR worker; `lead_s`: silence before the speech, which moves where the
    passes fall against the words."""

    def __init__(self, config: Config, recognizer: Any, *, live: bool = False, decode_s: float = 0.5,
                 lead_s: float = 0.3) -> None:
        self.config = config
        self.decode_s = decode_s
        self.lead_s = lead_s
        self.clock = VirtualClock()
        options = dataclasses.replace(PipelineOptions.from_config(config), live=live, read_timeout_s=0.0)
        factory = StageFactory()
        self.stages = Stages(source=_Source(self, np.zeros(0, np.float32), 0.0),
                             segmenter=factory.segmenter(config), recognizer=recognizer, injector=None,  # type: ignore[arg-type]
                             history=None)
        self.pipeline = Pipeline(self.stages, options, config.post_processing, _Listener(), self.clock,
                                 config.commands)
        self.busy_until = 0.0
        self.dictation = Dictation(1, self.clock)

    def run_due(self) -> None:
        """Run the ASR jobs the worker would have begun by now (each takes `decode_s`, one at a time)."""
        jobs = self.pipeline._asr_q
        while self.busy_until <= self.clock.now_s:
            try:
                job = jobs.get_nowait()
            except queue.Empty:
                return
            self.busy_until = max(self.busy_until, self.clock.now_s) + self._run(job)

    def _run(self, job: Any) -> float:
        passes = self.dictation.passes
        self.pipeline._asr_job(*job)
        decoded = (job[1] in ("segment", "release") or self.dictation.passes > passes
                   or (job[1] == "early" and job[2].text is not None))
        return self.decode_s if decoded else 0.0

    def say(self, audio: np.ndarray) -> Replayed:
        d = self.dictation
        self.stages.source = _Source(self, audio, self.lead_s)
        self.stages.segmenter.reset()
        self.pipeline._capture(d)
        jobs = self.pipeline._asr_q
        while not jobs.empty():
            self.pipeline._asr_job(*jobs.get_nowait())
        typed, pieces = "", []
        deliveries = self.pipeline._deliver_q
        while not deliveries.empty():
            job = deliveries.get_nowait()
            if len(job) == 2:  # live: the settled words so far
                text = postprocess(job[1], self.config.post_processing, d.language, self.config.commands)
                delta = live_rest(typed, text.rstrip())
                if delta.strip():
                    typed += delta
                    pieces.append(delta)
            else:
                final = postprocess(join_segments(d.texts), self.config.post_processing, d.language,
                                    self.config.commands)
                typed = typed + live_rest(typed, final) if typed else final
        return Replayed(typed, d.passes, pieces)


def replay(config: Config, recognizer: Any, audio: np.ndarray, *, live: bool = False, decode_s: float = 0.5,
           lead_s: float = 0.3) -> Replayed:
    """One dictation of `audio` replayed in virtual time (see `Replay`)."""
    return Replay(config, recognizer, live=live, decode_s=decode_s, lead_s=lead_s).say(audio)

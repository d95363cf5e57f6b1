"""10,000 malformed, oversized, truncated, binary and unknown IPC messages thrown at a RUNNING Daemon (the
real Daemon, IpcServer, controller, pipeline and history; a warm file 'microphone' and a test-double
recognizer, since the model is not what is tested). Every payload must get exactly the replies the protocol
predicts (an error, or the answer of a real command) or a closed connection; no hang (socket timeouts);
`status` answers after every 50 payloads and at the end; the daemon's threads are all still there."""

from __future__ import annotations

import inspect
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from onevox.audio.filesource import FileAudioSource
from onevox.config import load_config
from onevox.daemon.app import Daemon
from onevox.daemon.stages import StageFactory
from onevox.inject.stdout import StdoutInjector
from onevox.ipc import protocol as proto
from onevox.ipc.client import IpcClient
from tests.daemon.doubles import FakeRecognizer
from tests.ipc.doubles import short_tmp_dir
from tests.ipc.fuzz import FuzzReport, check_payload, expected_replies, payloads

MESSAGES = 10_000
PING_EVERY = 50
RATE = 16000


CONFIG = """
[hotkey]
backend = "none"
[vad]
backend = "energy"
[injection]
method = "stdout"
"""


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    with short_tmp_dir() as folder:
        path = folder / "config.toml"
        path.write_text(CONFIG + f'[history]\npath = "{folder / "history.sqlite3"}"\n'
                        f'[daemon]\nsocket = "{folder / "run" / "d.sock"}"\n')
        config = load_config(path)
        # with its config file, `reload` (where the daemon has it) is served for real, not refused
        extra = {"config_path": path} if "config_path" in inspect.signature(Daemon).parameters else {}
        source = FileAudioSource(np.zeros(RATE // 10, np.float32), RATE, realtime=True)  # a quiet, warm mic
        factory = StageFactory(source=source,
                               injector=StdoutInjector(io.StringIO()),
                               recognizer=FakeRecognizer())
        with Daemon(config, factory=factory, **extra) as d:
            yield d


def real_controller_answer(request: proto.Request) -> str:
    """The real daemon's answer: its `cancel` answers (nothing to cancel is not an error), where the IPC
    suite's FakeController raises; `correct` needs an integer "entry" and a string "text", and this daemon's
    history has no entries to correct; every other command is answered "ok"."""
    if request.cmd == proto.Command.CORRECT:
        entry, text = request.args.get("entry"), request.args.get("text")
        valid = isinstance(entry, int) and not isinstance(entry, bool) and isinstance(text, str)
        return proto.FAILED if valid else proto.BAD_REQUEST
    return "ok"


def real_controller_replies(payload: bytes) -> list[tuple[int | None, str]]:
    return expected_replies(payload, real_controller_answer)


def throw(socket_path: Path, count: int, report: FuzzReport, seed: int) -> None:
    client = IpcClient(socket_path)

    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(payloads())
    def one(payload: bytes) -> None:
        check_payload(socket_path, payload, report, want=real_controller_replies(payload))
        if report.payloads % PING_EVERY == 0:
            assert "state" in client.request("status")

    hypothesis_seed(seed)(one)()


@pytest.mark.timeout(300)
def test_ten_thousand_bad_messages_leave_the_daemon_answering(daemon: Daemon) -> None:
    socket_path = daemon.config.socket_path()
    threads_before = {t.name for t in threading.enumerate() if t.name.startswith("onevox-")}
    report = FuzzReport()
    began = time.monotonic()
    throw(socket_path, MESSAGES, report, seed=5)
    elapsed = time.monotonic() - began
    print(f"\n{report.payloads} payloads, {report.replies} replies in {elapsed:.1f} s: {report.summary()}")
    assert report.payloads >= MESSAGES
    for code in ("ok", proto.BAD_JSON, proto.BAD_REQUEST, proto.UNKNOWN_COMMAND, proto.TOO_LARGE):
        assert report.codes[code] > 0, report.summary()
    status = IpcClient(socket_path).request("status")
    assert status["ready"] is True and status["state"] in ("idle", "recording", "transcribing")
    threads_after = {t.name for t in threading.enumerate() if t.name.startswith("onevox-")}
    assert threads_before <= threads_after  # no worker died on the way


def test_the_oracle_fails_a_wrong_reply(daemon: Daemon) -> None:
    """check_payload with the real-controller oracle can fail (so the 10,000 passing means something)."""
    socket_path = daemon.config.socket_path()
    report = FuzzReport()
    check_payload(socket_path, b'{"v":1,"id":3,"cmd":"cancel"}', report,
                  want=real_controller_replies(b'{"v":1,"id":3,"cmd":"cancel"}'))
    assert report.codes == {"ok": 1}
    with pytest.raises(AssertionError, match="expected"):
        check_payload(socket_path, b'{"v":1,"id":3,"cmd":"nope"}', report, want=[(3, "ok")])

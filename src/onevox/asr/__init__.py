"""Speech recognition: Whisper on CTranslate2 (`whisper.py`), with pure window/decoding helpers beside it.

`base.py` holds the interface; importing this package does not load CTranslate2 (that happens when
`onevox.asr.whisper` is imported).
"""

from onevox.asr.base import SpeechRecognizer, Transcript
from onevox.asr.segments import transcribe_segments

__all__ = ["SpeechRecognizer", "Transcript", "transcribe_segments"]

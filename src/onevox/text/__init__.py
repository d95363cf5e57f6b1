"""Text after recognition: post-processing rules and the hallucination filter (pure functions)."""

from onevox.text.hallucination import collapse_repetitions, is_hallucination, strip_annotations
from onevox.text.postprocess import join_segments, postprocess

__all__ = ["collapse_repetitions", "is_hallucination", "join_segments", "postprocess", "strip_annotations"]

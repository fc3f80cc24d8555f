"""The sound of a render: one tone per audio segment (tt 1, the BGM track), as an AAC stream.

The mock has no music to play, so each audio segment sounds as a plain tone over exactly its
time span, at its `m.volume` (0..1), with a pitch derived from its name (the same segment always
sounds the same); silence where no audio segment plays. A player, a probe or a client checking
"the export has sound" sees a real AAC track of the draft's length.

Samples are made one AAC frame (1024 samples) at a time, so memory does not grow with the
draft's length; 16 kHz mono at 16 kbit/s is plenty for a test tone and keeps renders cheap.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

SAMPLE_RATE = 16_000
#: Bits per second of the AAC stream, encoded by FFmpeg's "fast" coder: a plain tone needs little,
#: and the default coder at the default rate made the soundtrack most of a short render's cost.
BIT_RATE = 16_000
CODER_OPTIONS = {"aac_coder": "fast"}
#: Peak amplitude of a tone at volume 1: headroom for overlapping segments.
AMPLITUDE = 0.3
#: Pitches a segment's name picks from (A3 pentatonic), Hz.
PITCHES = (220.0, 246.94, 277.18, 329.63, 369.99)
#: Milliseconds of fade at each end of a tone, so that segments start and stop without a click.
FADE_MS = 10


@dataclass(frozen=True, slots=True)
class Tone:
    """An audio segment as the renderer plays it: [start, end) ms at a volume and a pitch."""

    start_ms: int
    end_ms: int
    volume: float
    pitch_hz: float


def tone_of(start_ms: int, end_ms: int, meta: dict[str, Any], key: str) -> Tone:
    """The tone of one audio segment; a volume that is not a number in 0..1 plays at full volume."""
    volume = meta.get("volume", 1.0)
    if isinstance(volume, bool) or not isinstance(volume, int | float) or not math.isfinite(volume):
        volume = 1.0
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    return Tone(start_ms, end_ms, min(1.0, max(0.0, float(volume))), PITCHES[digest[0] % len(PITCHES)])


def add_stream(container: Any) -> Any:
    """An AAC mono stream on `container`, timed in samples."""
    stream = container.add_stream("aac", rate=SAMPLE_RATE, options=CODER_OPTIONS)
    stream.layout = "mono"
    stream.codec_context.time_base = Fraction(1, SAMPLE_RATE)
    stream.codec_context.bit_rate = BIT_RATE
    return stream


def encode(container: Any, stream: Any, tones: tuple[Tone, ...], duration_ms: int) -> None:
    """Encode and mux the whole soundtrack: exactly `duration_ms` of samples."""
    total = round(duration_ms * SAMPLE_RATE / 1000)
    frame_size = stream.codec_context.frame_size or 1024
    silence = np.zeros((1, frame_size), np.float32)
    spans = [(round(t.start_ms * SAMPLE_RATE / 1000), round(t.end_ms * SAMPLE_RATE / 1000), t) for t in tones]
    fade = max(1, FADE_MS * SAMPLE_RATE // 1000)
    position = 0
    while position < total:
        count = min(frame_size, total - position)
        end = position + count
        samples = silence[:, :count]
        active = [span for span in spans if span[0] < end and span[1] > position and span[2].volume > 0]
        if active:
            index = np.arange(position, end)
            mix = np.zeros(count, np.float64)
            for start, stop, tone in active:
                inside = (index >= start) & (index < stop)
                envelope = np.minimum(1.0, np.minimum(index - start + 1, stop - index) / fade)
                wave = np.sin(2 * math.pi * tone.pitch_hz * index / SAMPLE_RATE)
                mix += np.where(inside, AMPLITUDE * tone.volume * envelope * wave, 0.0)
            samples = np.clip(mix, -1.0, 1.0).astype(np.float32).reshape(1, count)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), format="fltp", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = position
        for packet in stream.encode(frame):
            container.mux(packet)
        position = end
    for packet in stream.encode(None):
        container.mux(packet)

"""What the checker sends: messages the agent reads as a question, a generation or an edit, and tiny files."""

from __future__ import annotations

import struct
import zlib

#: Questions are free (B-CRED-08); three, one per accepted `user_id` form (B-SSE-03).
QUESTIONS = (
    "What video formats can I upload?",
    "How long does a render usually take?",
    "Which aspect ratios do you support?",
)
#: A generation costs about 100 credits (B-CRED-04) and works for minutes (B-SSE-10).
GENERATION = "make a 10 second city timelapse video with lo-fi music"
#: Edits cost about 50 (B-CRED-04); titles and effects are the ones that often end silently (B-SSE-09).
#: Some may change nothing (a fade the generation already added), so they prove nothing when silent.
EDITS = (
    "add a title 'Urban Dreams' at the top",
    "add a fade transition",
    "apply color grading",
    "add subtitles 'Welcome to the city'",
    "add jazz background music at 30%",
)


def title_edit(label: str) -> str:
    """An edit that always changes the draft: a title no earlier step has used."""
    return f"add a title '{label}' at the top"


def tiny_png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (31, 78, 121)) -> bytes:
    """A valid PNG of a few dozen bytes, made here so the checker needs no fixture files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


#: A text file: a type the skills recommend but the API refuses with 4001 (B-UPL-07, B-UPL-09).
NOTES_TXT = b"Shot list: skyline at dusk, traffic trails, rooftop timelapse.\n"

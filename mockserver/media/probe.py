"""What an uploaded file really is: magic-byte sniffing and probing (B-UPL-04/05/06/07, U-13).

`sniff` looks at the first bytes only and is the cheap first check; `probe` opens the file
(PyAV for containers, Pillow for images) and fills the fields of an upload answer (B-UPL-04).
An upload whose content family does not match its extension, or that nothing recognises,
is refused with 4001 by the caller; neither function raises on garbage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image

from contracts.profiles import DOCUMENTED_FORMATS

SNIFF_BYTES = 64

#: ftyp major brands of audio-only and still-image ISO files; every other brand is video.
AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})
IMAGE_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"})
#: Top-level atoms an old QuickTime file may start with instead of `ftyp`.
QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"})

_EXTENSION_FAMILY = {ext: family for family, exts in DOCUMENTED_FORMATS.items() for ext in exts}


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """The probe of one file; `file_type` None means nothing usable was recognised."""

    file_type: str | None  # video | image | audio
    duration: float | None = None  # seconds
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    format_name: str | None = None


def sniff(head: bytes) -> str | None:
    """The content family ('video' | 'image' | 'audio') the magic bytes of `head` announce."""
    head = bytes(head[:SNIFF_BYTES])
    box = head[4:8]
    if box == b"ftyp":
        brand = head[8:12]
        if brand in AUDIO_BRANDS:
            return "audio"
        if brand in IMAGE_BRANDS:
            return "image"
        return "video"
    if box in QUICKTIME_ATOMS:
        return "video"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska / WebM
        return "video"
    if head.startswith(b"RIFF"):
        return {b"AVI ": "video", b"WAVE": "audio", b"WEBP": "image"}.get(head[8:12])
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")):
        return "image"
    if head.startswith(b"ID3") or _is_audio_frame_sync(head):
        return "audio"
    return None


def _is_audio_frame_sync(head: bytes) -> bool:
    """An MPEG audio frame header (MP3: FFFB, FFF3, FFF2, FFE3 ...) or an AAC ADTS one (FFF1, FFF9)."""
    if len(head) < 2 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    if layer == 0:  # ADTS keeps layer 00 and the 12-bit sync word
        return head[1] & 0xF0 == 0xF0
    return version != 0b01  # 01 is reserved in MPEG audio


def content_matches_extension(ext: str, family: str | None) -> bool:
    """Whether content of `family` may carry extension `ext` (case-insensitive; 'jpeg' = 'jpg').

    An .m4a may also sniff as 'video': many M4A files carry a generic ISO brand (isom, mp42)
    that the head cannot tell from an MP4 video; `probe` then decides by the streams inside.
    """
    ext = ext.lower().lstrip(".")
    if ext == "jpeg":
        ext = "jpg"
    if family is None:
        return False
    return _EXTENSION_FAMILY.get(ext) == family or (ext == "m4a" and family == "video")


def probe(path: Path) -> MediaInfo:
    """Probe an uploaded file. A missing file raises OSError; unreadable content never raises."""
    with open(path, "rb") as handle:
        family = sniff(handle.read(SNIFF_BYTES))
    if family is None:
        return MediaInfo(file_type=None)
    try:
        return _probe_image(path) if family == "image" else _probe_container(path)
    # Decoders meet hostile bytes here: whatever they raise, the answer is "not recognised".
    except Exception:
        return MediaInfo(file_type=None)


def _probe_image(path: Path) -> MediaInfo:
    with Image.open(path) as image:
        width, height = image.size
        format_name = (image.format or "").lower() or None
        image.verify()  # walks the chunks without decoding pixels: catches truncated files
    return MediaInfo(file_type="image", width=width, height=height, format_name=format_name)


def _probe_container(path: Path) -> MediaInfo:
    with av.open(str(path), metadata_errors="ignore") as container:
        cover_art = av.stream.Disposition.attached_pic  # an MP3's cover picture is no video
        videos = [s for s in container.streams.video if not s.disposition & cover_art]
        if videos:
            file_type = "video"
        elif container.streams.audio:
            file_type = "audio"
        else:
            return MediaInfo(file_type=None, format_name=container.format.name)
        duration: float | None = None
        if container.duration is not None and container.duration > 0:
            duration = container.duration / av.time_base
        else:
            streams: list[av.stream.Stream] = [*videos, *container.streams.audio]
            lengths = [float(s.duration * s.time_base) for s in streams if s.duration and s.time_base]
            duration = max(lengths) if lengths else None
        width = height = None
        fps: float | None = None
        if videos:
            video = videos[0]
            width, height = video.codec_context.width or None, video.codec_context.height or None
            # The base rate first: the average is skewed by a stretched last frame.
            rate = video.guessed_rate or video.average_rate
            fps = round(float(rate), 3) if rate else None
        return MediaInfo(
            file_type=file_type,
            duration=round(duration, 3) if duration is not None else None,
            width=width,
            height=height,
            fps=fps,
            format_name=container.format.name,
        )

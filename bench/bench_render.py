"""Render cost: CPU seconds for a 30 s 1080x1920 draft of three segments and a title.

`python bench/bench_render.py` prints the measurements and exits 1 when the median CPU time
is over the target; `run()` returns them as a dict for a bench runner. CPU time is
`time.process_time` (all threads of the process) around `render_draft`; thread time and wall
time are reported beside it. One warm-up render comes first so that library start-up is not
counted against the render.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_CPU_S = 1.0
REPEATS = 5

BENCH_DRAFT: dict[str, Any] = {
    "t": [
        {
            "tt": 0,
            "id": "trk_video",
            "m": {"name": "Video"},
            "sg": [
                {"id": "seg_v1", "st": 0, "d": 10000, "m": {"name": "city timelapse", "color": "#1f4e79"}},
                {"id": "seg_v2", "st": 10000, "d": 10000, "m": {"name": "harbour", "color": "#7a2e1f"}},
                {"id": "seg_v3", "st": 20000, "d": 10000, "m": {"name": "sunrise"}},
            ],
        },
        {
            "tt": 7,
            "id": "trk_title",
            "m": {"name": "Title"},
            "sg": [{"id": "seg_t1", "st": 0, "d": 3000, "m": {"kind": "title", "text": "Urban Dreams"}}],
        },
    ],
    "d": 30000,
    "m": {"title": "Urban Dreams", "width": 1080, "height": 1920},
}


def run(repeats: int = REPEATS) -> dict[str, Any]:
    """Render the bench draft `repeats` times after one warm-up; medians and the ratio to the target."""
    from mockserver.media import render_draft

    cpu: list[float] = []
    thread: list[float] = []
    wall: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "bench.mp4"
        render_draft(BENCH_DRAFT, out)
        for _ in range(repeats):
            cpu_start, thread_start, wall_start = time.process_time(), time.thread_time(), time.perf_counter()
            result = render_draft(BENCH_DRAFT, out)
            cpu.append(time.process_time() - cpu_start)
            thread.append(time.thread_time() - thread_start)
            wall.append(time.perf_counter() - wall_start)
    cpu_s = statistics.median(cpu)
    return {
        "name": "render_30s_1080x1920",
        "repeats": repeats,
        "cpu_s": round(cpu_s, 4),
        "cpu_s_max": round(max(cpu), 4),
        "thread_s": round(statistics.median(thread), 4),
        "wall_s": round(statistics.median(wall), 4),
        "output_bytes": result.size_bytes,
        "frames": result.frames,
        "duration_s": result.duration_s,
        "target_cpu_s": TARGET_CPU_S,
        "ratio_to_target": round(cpu_s / TARGET_CPU_S, 3),
        "ok": cpu_s <= TARGET_CPU_S,
    }


def main() -> int:
    project = Path(__file__).resolve().parent.parent
    if str(project) not in sys.path:  # run as a script from anywhere, without installing
        sys.path.insert(0, str(project))
    report = run()
    for key, value in report.items():
        print(f"{key:16} {value}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

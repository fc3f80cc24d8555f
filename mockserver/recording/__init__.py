"""Recording, replaying and reproducing runs of the mock (or of a real backend, through a proxy).

- `recorder`: every exchange of a run as JSON Lines (`nemo-mock serve --record FILE`);
- `proxy`: the same in front of another server (`nemo-mock record --upstream URL`);
- `replay`: a recording served back, timed on a virtual clock (`nemo-mock replay FILE`);
- `har`: a recording as HAR 1.2 (`nemo-mock export FILE --har OUT`);
- `repro`: a recording as a self-contained pytest file (`nemo-mock repro FILE --pytest OUT.py`),
  which runs through `reenact`.
"""

from __future__ import annotations

from mockserver.recording.model import Exchange, RecordedEvent, Recording, RecordingError, load_recording

__all__ = ["Exchange", "RecordedEvent", "Recording", "RecordingError", "load_recording"]

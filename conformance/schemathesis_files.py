"""Real files for schemathesis' upload cases: `SCHEMATHESIS_HOOKS=conformance.schemathesis_files st run ...`.

The upload accepts a file only when its content is one of the profile's formats (B-UPL-05, B-UPL-07,
U-13); a JSON Schema cannot say that of a `format: binary` part, so schemathesis sends random bytes,
a PDF or a ZIP as often as an image, and the refusal (4001, HTTP 415 under `--error-status mapped`)
reads to it as a valid request rejected. This hook only teaches schemathesis what a file of an
accepted type looks like: for the media types the served document lists in the `files` part's
`encoding`, it draws schemathesis' own one-pixel images. Every check stays as it is.
"""

from __future__ import annotations

from typing import cast

import schemathesis
from hypothesis import strategies as st

from conformance.schemathesis_adapter import FILE_SAMPLES

#: Media types whose files schemathesis names by their signature (`files.png`), as the upload needs.
IMAGE_SAMPLES = {
    "image/png": FILE_SAMPLES["png"],
    "image/jpeg": FILE_SAMPLES["jpg"],
    "image/gif": FILE_SAMPLES["gif"],
    "image/webp": FILE_SAMPLES["webp"],
}
MAX_FILES = 3

for _media_type, _sample in IMAGE_SAMPLES.items():
    # `files` is an array part (B-UPL-02): schemathesis puts the drawn value in place of the whole
    # array, so it draws a list of files, each sent as its own part (typed as bytes upstream).
    _files = st.lists(st.just(_sample), min_size=1, max_size=MAX_FILES)
    schemathesis.openapi.media_type(_media_type, cast("st.SearchStrategy[bytes]", _files))

"""The web base when NEMO_WEB_URL is unset: a local mock's own origin, else the documented default."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.config import ClientConfig
from client.links import DEFAULT_WEB_URL, claim_link, default_web_url


@pytest.mark.parametrize(
    ("api_url", "web_url"),
    [
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
        ("http://localhost:9000/api", "http://localhost:9000"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("http://mock.localhost:9000", "http://mock.localhost:9000"),
        ("http://127.8.0.1", "http://127.8.0.1"),
        ("https://mega-api-prod.nemovideo.ai", DEFAULT_WEB_URL),
        ("http://10.0.0.5:8765", DEFAULT_WEB_URL),
        ("http://localhost.example.com", DEFAULT_WEB_URL),
        ("not a url", DEFAULT_WEB_URL),
    ],
)
def test_default_web_url_follows_a_loopback_api(api_url: str, web_url: str) -> None:
    """B-ENV-02: the documented default, except that a mock on this machine serves its own links."""
    assert default_web_url(api_url) == web_url


def test_config_uses_the_rule_only_when_nemo_web_url_is_unset(tmp_path: Path) -> None:
    """B-ENV-02, B-CLI-19: NEMO_WEB_URL wins; unset, a local mock's claim link opens on the mock."""
    base = {"NEMO_CONFIG_DIR": str(tmp_path), "NEMO_CLIENT_ID": "c1"}
    local = ClientConfig.from_env({**base, "NEMO_API_URL": "http://127.0.0.1:8765"})
    assert local.web_url == "http://127.0.0.1:8765"
    assert claim_link(local.web_url, "clm_abc") == "http://127.0.0.1:8765/workspace/claim?ct=clm_abc"
    chosen = ClientConfig.from_env(
        {**base, "NEMO_API_URL": "http://127.0.0.1:8765", "NEMO_WEB_URL": "https://w.test"}
    )
    assert chosen.web_url == "https://w.test"
    remote = ClientConfig.from_env(base)
    assert remote.web_url == DEFAULT_WEB_URL

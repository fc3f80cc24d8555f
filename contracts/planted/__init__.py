"""Planted-bug variants of the mock, which the contract checks must catch (test-only code).

`variants.CATALOGUE` lists them; `server.QuickLiveServer` serves one (or the unchanged mock) on a
free loopback port; `asgi` holds the wire-level wrappers the variants are made of.
"""

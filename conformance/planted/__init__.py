"""Planted-bug variants of the mock, which the contract checks must catch (test-only code).

`variants.CATALOGUE` lists them; `mockserver.testing.LiveServer(backend_class=..., wrap=...)`
serves one (or the unchanged mock) on a free loopback port; `asgi` holds the wire-level wrappers
the variants are made of.
"""

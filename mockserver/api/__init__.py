"""Thin Starlette handlers over `mockserver.backend.Backend`, one module per API area."""

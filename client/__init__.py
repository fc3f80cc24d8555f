"""The reference client: one core (`BaseClient`), a blocking `Client` and an asyncio `AsyncClient`.

Configuration comes from the environment (`ClientConfig.from_env`), typed events from `/run_sse`
(`client.sse`), failures as `NemoError` subclasses with a remedy (`client.errors`).
"""

from __future__ import annotations

from ._async import AsyncClient
from ._core import DEFAULT_TIMEOUT, USE_CONFIG_DEFAULT, BaseClient, new_render_id
from ._sync import Client
from .attribution import SkillAttribution
from .clock import Clock, FakeClock, ScaledClock
from .config import ClientConfig, Project, clear_project, load_project, save_project
from .errors import (
    BadRequest,
    ConfigError,
    ExportBlocked,
    FileTooLarge,
    InsufficientCredits,
    MissingClientId,
    NemoError,
    RateLimited,
    ServerError,
    SessionNotFound,
    StreamTimeout,
    TokenInvalid,
    TransportError,
    UnsupportedFile,
    error_from_response,
)
from .models import AnonymousToken, ClaimToken, Credits, RenderJob, Session, State, UploadedFile, UploadResult
from .sse import (
    ErrorEvent,
    HeartbeatEvent,
    StreamEvent,
    TextEvent,
    ToolCallEvent,
    ToolResultEvent,
    UnknownEvent,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "USE_CONFIG_DEFAULT",
    "AnonymousToken",
    "AsyncClient",
    "BadRequest",
    "BaseClient",
    "ClaimToken",
    "Client",
    "ClientConfig",
    "Clock",
    "ConfigError",
    "Credits",
    "ErrorEvent",
    "ExportBlocked",
    "FakeClock",
    "FileTooLarge",
    "HeartbeatEvent",
    "InsufficientCredits",
    "MissingClientId",
    "NemoError",
    "Project",
    "RateLimited",
    "RenderJob",
    "ScaledClock",
    "ServerError",
    "Session",
    "SessionNotFound",
    "SkillAttribution",
    "State",
    "StreamEvent",
    "StreamTimeout",
    "TextEvent",
    "TokenInvalid",
    "ToolCallEvent",
    "ToolResultEvent",
    "TransportError",
    "UnknownEvent",
    "UnsupportedFile",
    "UploadResult",
    "UploadedFile",
    "clear_project",
    "error_from_response",
    "load_project",
    "new_render_id",
    "save_project",
]

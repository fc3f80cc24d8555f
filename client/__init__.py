"""The reference client: one core (`BaseClient`), a blocking `Client` and an asyncio `AsyncClient`.

Configuration comes from the environment (`ClientConfig.from_env`), typed events from `/run_sse`
(`client.sse`), failures as `NemoError` subclasses with a remedy (`client.errors`).

- Plans (`client.plans`): every API call is written once, as a generator of `RequestSpec` and
  `Sleep` steps; the core's public `plan_*` methods make them (`plan_state(session_id)`, ...)
  and `Client.drive(plan)` / `await AsyncClient.drive(plan)` run them. The skill's workflows
  (`client.flows`) are built on these alone.
- Remedies (`client.remedies`): the one table from an error's kind to what the user is told,
  its rule ids and its exit code, filled with the profile's wording (`BaseClient.remedies`).
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
from .plans import Plan, Reply, RequestSpec, Sleep
from .remedies import ErrorKind, Failure, RemedyTable
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
    "ErrorKind",
    "ExportBlocked",
    "Failure",
    "FakeClock",
    "FileTooLarge",
    "HeartbeatEvent",
    "InsufficientCredits",
    "MissingClientId",
    "NemoError",
    "Plan",
    "Project",
    "RateLimited",
    "RemedyTable",
    "RenderJob",
    "Reply",
    "RequestSpec",
    "ScaledClock",
    "ServerError",
    "Session",
    "SessionNotFound",
    "SkillAttribution",
    "Sleep",
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

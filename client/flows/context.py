"""What every workflow shares: the client, the skill profile, the current project, and the error table.

`SkillContext` holds no I/O. Its flows yield steps (`client.flows.steps`) and the faces
(`Skill`, `AsyncSkill`) perform them. It covers:

- setup (B-SESS-01/09, B-CLI-19/21): a token, a session in the user's language (B-SESS-02), a
  claim token and the `?ct=` link; the project (session, task, claim token, user id) is saved in
  the config directory so the next command continues it (B-SESS-04);
- `session_call`: a call on the project's session that meets 1002 makes a new session, tells the
  user, and tries once more there (B-SESS-07);
- `plan_error`: one line per documented error and the failure category the CLI turns into an
  exit code, both from the client's remedy table (B-ERR-05, `client.remedies`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from client import BaseClient
from client.config import Project, load_project, save_project
from client.errors import NemoError, SessionNotFound
from client.links import claim_link, is_anonymous
from client.models import State
from client.plans import Plan
from client.remedies import ErrorKind, Failure
from contracts.profiles import DEFAULT_PROFILE, Profile

from .language import detect_language
from .messages import Message, MessageKind
from .steps import Do, Emit, Flow

T = TypeVar("T")

TASK_NAME = "project"  # B-SESS-06: free text; the upstream skill's own value
CONNECTING = "Connecting to NemoVideo..."
READY = "✅ Ready: a new project is open."
NO_PROJECT = "No project yet: describe the video you want and I'll generate it."


class _UseProfile:
    __slots__ = ()

    def __repr__(self) -> str:
        return "USE_PROFILE"


#: The session language is left to the profile (and, for the upstream skill, the first message).
USE_PROFILE: Any = _UseProfile()


class SkillContext:
    """The state one user's conversation needs, and the flows' shared pieces."""

    def __init__(
        self,
        client: BaseClient,
        *,
        project: Project | None = None,
        persist: bool = True,
        downloads_dir: str | Path | None = None,
        language: Any = USE_PROFILE,
    ) -> None:
        self.client = client
        self.config = client.config
        self.profile: Profile = client.profile
        self.remedies = client.remedies
        self.persist = persist and client.config.config_dir is not None
        if project is None and self.persist:
            assert client.config.config_dir is not None
            project = load_project(client.config.config_dir)
        self.project = project
        self.downloads_dir = Path(downloads_dir) if downloads_dir is not None else Path.cwd()
        self._language = language

    # ------------------------------------------------------------------ helpers

    @property
    def clock_now(self) -> float:
        return self.client.clock.now()

    def emit(self, kind: MessageKind, text: str, **extra: Any) -> Emit:
        return Emit(Message(kind, text, **extra))

    def claim_url(self) -> str | None:
        """`$WEB/workspace/claim?ct=<claim token>` for the project, when there is a claim token."""
        if self.project is None or not self.project.claim_token:
            return None
        return claim_link(self.config.web_url, self.project.claim_token)

    def session_language(self, first_message: str | None) -> str | None:
        """`language` for create-session.

        An explicit `language=` wins. Otherwise the profile decides: a profile that sends no
        language (seed 003) sends none (B-SESS-05); the seeds that write a fixed value send it as
        written (B-PROF-02..06); the upstream skill (`nemo-video`, `"language":"<lang>"`) sends the
        language of the user's first message (B-SESS-02), its profile value when that is unclear.
        """
        if self._language is not USE_PROFILE:
            return self._language
        fallback = self.config.language
        if fallback is None or self.profile.name != DEFAULT_PROFILE or not first_message:
            return fallback
        return detect_language(first_message) or fallback

    def _remember(self, project: Project) -> None:
        self.project = project
        if self.persist:
            assert self.config.config_dir is not None
            save_project(self.config.config_dir, project)

    # ------------------------------------------------------------------ setup

    def plan_setup(self, first_message: str | None = None) -> Flow[Project]:
        """The current project, or a new one: B-SESS-01, B-SESS-09, B-CLI-19, B-CLI-21."""
        if self.project is not None:
            return self.project
        yield self.emit(MessageKind.STATUS, CONNECTING)
        return (yield from self._plan_new_session(first_message))

    def _plan_new_session(self, first_message: str | None) -> Flow[Project]:
        client = self.client
        yield Do(client.plan_ensure_token())
        session = yield Do(client.plan_create_session(TASK_NAME, self.session_language(first_message)))
        user_id = session.user_id or (self.project.user_id if self.project else None)
        project = Project(session.session_id, session.task_id, None, user_id)
        self._remember(project)
        yield self.emit(MessageKind.STATUS, READY)
        yield from self._plan_claim()
        return self.project or project

    def _plan_claim(self) -> Flow[None]:
        """Fetch the claim token and show the link (B-SESS-09, B-AUTH-19). A failure costs only the link."""
        project = self.project
        if project is None or project.task_id is None or not self.profile.claim_token:
            return
        try:
            claim = yield Do(self.client.plan_claim_token(project.task_id, project.session_id))
        except NemoError:
            return
        self._remember(Project(project.session_id, project.task_id, claim.claim_token, project.user_id))
        url = self.claim_url()
        if url:
            yield self.emit(MessageKind.LINK, f"🔗 Open this project in your browser: {url}")

    def plan_claim_link(self) -> Flow[str | None]:
        """The task detail link, fetching a claim token first when the project has none (B-CLI-14e)."""
        if self.project is not None and not self.project.claim_token:
            yield from self._plan_claim()
            return self.claim_url()
        return self.claim_url()

    def plan_replace_session(self) -> Flow[Project]:
        """1002: the session is gone; start a new one and say so (B-SESS-07, B-ERR-05)."""
        yield self.emit(MessageKind.NOTICE, self.remedies.notice(ErrorKind.SESSION_NOT_FOUND))
        return (yield from self._plan_new_session(None))

    def session_call(self, make: Callable[[str], Plan[T]]) -> Flow[T]:
        """Run `make(session_id)` on the project's session; on 1002 once more on a new session."""
        project = yield from self.plan_setup()
        try:
            return (yield Do(make(project.session_id)))
        except SessionNotFound:
            project = yield from self.plan_replace_session()
        return (yield Do(make(project.session_id)))

    def plan_state(self) -> Flow[State]:
        state: State = yield from self.session_call(self.client.plan_state)
        if state.user_id and self.project is not None and self.project.user_id != state.user_id:
            p = self.project
            self._remember(Project(p.session_id, p.task_id, p.claim_token, state.user_id))
        return state

    # ------------------------------------------------------------------ errors

    def anonymous(self) -> bool:
        """Whether the caller is anonymous: by user id when known (B-AUTH-04), else by token origin."""
        user_id = self.project.user_id if self.project else None
        if user_id:
            return is_anonymous(user_id)
        return self.client.token_origin == "anonymous"

    def plan_error(self, error: NemoError) -> Flow[Failure]:
        """Tell the user what failed and what to do (B-ERR-05); returns the failure category."""
        if self.remedies.wants_user_id(error.kind) and self.anonymous():
            yield from self._plan_user_id()
        text, failure = self.error_text(error)
        yield self.emit(MessageKind.ERROR, text, code=error.code)
        return failure

    def _plan_user_id(self) -> Flow[None]:
        """The anonymous user id for `?bind=` from the state, when setup did not get it (B-STATE-08)."""
        if self.project is None or self.project.user_id:
            return
        try:
            yield from self.plan_state()
        except NemoError:
            return

    def error_text(self, error: NemoError) -> tuple[str, Failure]:
        """The one-line message and failure category for `error`, from the remedy table."""
        user_id = self.project.user_id if self.project else None
        text = self.remedies.line(error, anonymous=self.anonymous(), user_id=user_id)
        return text, self.remedies.failure(error.kind)

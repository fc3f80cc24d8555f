"""Targeted requests, one or two per rule, that generated inputs would find only by luck.

Missing and overlong client ids (B-AUTH-02, U-07), a second token for one client (B-AUTH-08,
U-06, U-03), bad and claim tokens as bearer (B-AUTH-14, B-AUTH-21), unknown sessions (B-SESS-07,
U-09), malformed JSON (U-12), refused uploads (B-UPL-07, U-13), running out of credits (B-CRED-05)
an export without the attribution headers (B-ATTR-08) and a file one byte over the advertised
upload cap (B-UPL-08). Probes that issue tokens, spend or need made-up accounts run only where the
target allows them (`conformance.check.target`); those that move the clock are in
`conformance.check.moments`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx

from conformance.check.moments import Moments
from conformance.check.report import Report
from conformance.check.samples import GENERATION, NOTES_TXT, QUESTIONS, tiny_png
from conformance.check.sse import run_request, stream_turn
from conformance.check.target import PAID_CREDITS, Target, TargetError
from conformance.check.walker import Account, SessionRef, Walker, exportable
from contracts.profiles import load_profile

UNKNOWN_SESSION = "1000000000000000001"
UNKNOWN_TOKEN = "nmv_usr_" + "0" * 32
#: Bodies that are no JSON at all (U-12).
MALFORMED_JSON = b'{"task_name": "project", '
UPLOAD_PATH = "/api/upload-video/nemo_agent/{user_id}/{session_id}"
#: Where the mock's served document states its profile's cap per file.
CAP_FIELD = "x-upload-cap-bytes"
MALFORMED_TARGETS = (
    ("POST", "/api/tasks/me/with-session/nemo_agent", "createSession"),
    ("POST", "/api/auth/claim-token", "claimToken"),
    ("POST", "/run_sse", "runSse"),
    ("POST", "/api/render/proxy/lambda", "submitRender"),
)


class OverCapUpload:
    """A multipart body with one `.mp4` part of `size` zero bytes, made as it is sent."""

    BOUNDARY = "nemo-contract-over-the-cap"
    CHUNK = 1 << 20

    def __init__(self, size: int) -> None:
        self.size = size
        self.head = (
            f'--{self.BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="over-the-cap.mp4"'
            "\r\nContent-Type: video/mp4\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.BOUNDARY}--\r\n".encode()
        self.content_type = f"multipart/form-data; boundary={self.BOUNDARY}"
        self.length = len(self.head) + size + len(self.tail)

    def chunks(self) -> Iterator[bytes]:
        yield self.head
        block = bytes(self.CHUNK)
        left = self.size
        while left:
            n = min(left, self.CHUNK)
            yield block[:n]
            left -= n
        yield self.tail


class Probes:
    """Each method is one probe; `run()` takes those the target allows."""

    def __init__(self, target: Target, report: Report) -> None:
        self.target = target
        self.report = report
        self.walk = Walker(target, report, "probes")
        self._session: SessionRef | None = None

    def run(self) -> None:
        probes: list[Callable[[], None]] = [
            self.missing_client_id,
            self.overlong_client_id,
            self.unknown_token,
            self.unknown_session,
            self.malformed_json,
            self.missing_fields,
            self.claim_token_as_bearer,
            self.refused_uploads,
        ]
        if self.target.has_control:
            probes += [self.second_token_for_one_client, self.out_of_credits, self.export_without_attribution]
        else:
            self.report.note(
                "B-AUTH-08, B-CRED-05 and B-ATTR-08 probes left out: they need the /_mock control API"
            )
        for probe in probes:
            probe()
        self.over_the_cap()
        Moments(self.target, self.report).run()  # last: it moves the clock past every expiry

    @property
    def me(self) -> Account:
        return Account(self.target.primary_token(), exclusive=False)

    def session(self) -> SessionRef | None:
        """One session of the primary account for every probe that needs one."""
        if self._session is None:
            self._session = self.walk.create_session(self.me)
        return self._session

    # ------------------------------------------------------------------ tokens

    def missing_client_id(self) -> None:
        """B-AUTH-02: no X-Client-Id -> HTTP 400 (code 400); under v4.4's limits the call takes no
        header (B-AUTH-10), so there a token must come back."""
        if self.target.v44_limits:
            self._no_client_id_under_v44()
            return
        ex = self.walk.call("POST", "/api/auth/anonymous-token", "anonymousToken", None, attribution=False)
        if ex is not None:
            ok = ex.status == 400 and ex.code == 400
            self.walk.expect("B-AUTH-02", ok, f"no X-Client-Id got HTTP {ex.status}, code {ex.code}", ex)

    def _no_client_id_under_v44(self) -> None:
        ex = self.walk.call("POST", "/api/auth/anonymous-token", "anonymousToken", None, attribution=False)
        if ex is None or ex.status == 429:  # B-AUTH-10's hourly cap: nothing to say about the header
            return
        ok = ex.status == 200 and ex.code == 0
        self.walk.expect(
            "B-AUTH-10", ok, f"v4.4 limits: no X-Client-Id got HTTP {ex.status}, code {ex.code}", ex
        )

    def overlong_client_id(self) -> None:
        """U-07: an X-Client-Id over 64 characters -> HTTP 400."""
        headers = {"X-Client-Id": "c" * 65}
        ex = self.walk.call(
            "POST", "/api/auth/anonymous-token", "anonymousToken", None, attribution=False, headers=headers
        )
        if ex is not None:
            ok = ex.status == 400 and ex.code == 400
            self.walk.expect(
                "U-07", ok, f"a 65-character X-Client-Id got HTTP {ex.status}, code {ex.code}", ex
            )

    def second_token_for_one_client(self) -> None:
        """B-AUTH-08, U-06: one token per client id and week, then 429 with Retry-After (U-03)."""
        if self.target.v44_limits:
            self.report.note("B-AUTH-08 not probed: the target serves v4.4's limits (B-AUTH-10)")
            return
        headers = {"X-Client-Id": f"nemo-contract-{uuid.uuid4().hex[:16]}"}
        first = self.walk.call(
            "POST", "/api/auth/anonymous-token", "anonymousToken", None, attribution=False, headers=headers
        )
        if first is None:
            return
        if first.status == 429:
            self.report.note("B-AUTH-08 not probed: this IP has used up its anonymous tokens (B-AUTH-09)")
            return
        second = self.walk.call(
            "POST", "/api/auth/anonymous-token", "anonymousToken", None, attribution=False, headers=headers
        )
        if second is not None:
            ok = second.status == 429 and second.code == 429
            self.walk.expect(
                "B-AUTH-08", ok, f"a second token for one client id got HTTP {second.status}", second
            )

    def unknown_token(self) -> None:
        """B-AUTH-14: an unknown token -> body code 1001 (HTTP 200, or 401 mapped)."""
        ex = self.walk.call("GET", "/api/credits/balance/simple", "getCredits", Account(UNKNOWN_TOKEN, False))
        if ex is not None:
            ok = ex.code == 1001
            self.walk.expect("B-AUTH-14", ok, f"an unknown token got HTTP {ex.status}, code {ex.code}", ex)

    def claim_token_as_bearer(self) -> None:
        """B-AUTH-19/21: a claim token is issued for a session, and fails as a bearer with 1001."""
        session = self.session()
        if session is None:
            return
        body = {"task_id": session.task_id, "session_id": session.session_id}
        ex = self.walk.call("POST", "/api/auth/claim-token", "claimToken", self.me, json=body)
        data = self.walk.data(ex)
        claim = data.get("claim_token") if data else None
        reason = f"no claim token for an own session (code {ex and ex.code})"
        if not self.walk.expect("B-AUTH-19", isinstance(claim, str), reason, ex):
            return
        assert isinstance(claim, str)
        ex = self.walk.call("GET", "/api/credits/balance/simple", "getCredits", Account(claim, False))
        if ex is not None:
            ok = ex.code == 1001
            self.walk.expect(
                "B-AUTH-21", ok, f"a claim token as bearer got HTTP {ex.status}, code {ex.code}", ex
            )

    # ------------------------------------------------------------------ sessions and bodies

    def unknown_session(self) -> None:
        """B-SESS-07: an unknown session id -> 1002; on /run_sse before any stream (U-09, B-ADK-07)."""
        ex = self.walk.call("GET", f"/api/state/nemo_agent/me/{UNKNOWN_SESSION}/latest", "getState", self.me)
        if ex is not None:
            ok = ex.code == 1002
            self.walk.expect("B-SESS-07", ok, f"an unknown session got HTTP {ex.status}, code {ex.code}", ex)
        # A question, so that a server that wrongly runs the turn still spends nothing.
        turn = stream_turn(self.target, run_request(UNKNOWN_SESSION, QUESTIONS[0]), token=self.me.token)
        self.walk.judge(turn.outcomes, turn.exchange)
        answer = turn.exchange
        adk_missing = answer.status == 404 and isinstance(answer.json, dict) and "detail" in answer.json
        reason = f"/run_sse on an unknown session answered HTTP {answer.status} {answer.media_type}"
        self.walk.expect("U-09", answer.code == 1002 or adk_missing, reason, answer)

    def malformed_json(self) -> None:
        """U-12: a body that is no JSON -> HTTP 400 with an envelope, never a 500."""
        for method, path, operation_id in MALFORMED_TARGETS:
            ex = self.walk.call(
                method,
                path,
                operation_id,
                self.me,
                content=MALFORMED_JSON,
                headers={"Content-Type": "application/json"},
            )
            if ex is not None:
                ok = ex.status == 400 and ex.code == 400
                self.walk.expect("U-12", ok, f"malformed JSON got HTTP {ex.status}, code {ex.code}", ex)

    def missing_fields(self) -> None:
        """U-12: a run request without `session_id` -> HTTP 400."""
        body = {"app_name": "nemo_agent", "user_id": "me", "new_message": {"parts": [{"text": "hello"}]}}
        ex = self.walk.call("POST", "/run_sse", "runSse", self.me, json=body)
        if ex is not None:
            ok = ex.status == 400 and ex.code == 400
            self.walk.expect("U-12", ok, f"a run without session_id got HTTP {ex.status}, code {ex.code}", ex)

    # ------------------------------------------------------------------ uploads

    def refused_uploads(self) -> None:
        """B-UPL-07/09: a .txt gets 4001; U-13: so does content that is not what its extension says."""
        session = self.session()
        if session is None:
            return
        path = f"/api/upload-video/nemo_agent/me/{session.session_id}"
        cases = (
            ("B-UPL-07", "notes.txt", NOTES_TXT, "text/plain"),
            ("U-13", "clip.mp4", tiny_png(), "video/mp4"),
        )
        for rule_id, name, content, media in cases:
            ex = self.walk.call(
                "POST", path, "uploadFiles", self.me, files=[("files", (name, content, media))]
            )
            if ex is not None:
                reason = f"uploading {name} got HTTP {ex.status}, code {ex.code}, not 4001"
                self.walk.expect(rule_id, ex.code == 4001, reason, ex)

    def over_the_cap(self) -> None:
        """B-UPL-08: a file one byte over the advertised cap, streamed, is refused with 4002 (B-UPL-07;
        HTTP 413 in mapped mode), nothing of it is kept (U-13) and nothing is charged (B-CRED-08).

        The cap is the one the server advertises in its `/openapi.json` (`x-upload-cap-bytes`), else
        the default profile's. The body is generated as it is sent, never held in memory; an upload
        costs no credits, so this runs against a real backend too.
        """
        cap, where = self.advertised_cap()
        if cap is None:
            self.report.note(f"B-UPL-08 over-the-cap probe left out: {where} states no upload cap")
            return
        account = self.me
        if self.target.has_control:
            account = Account(self.target.new_account("paid", PAID_CREDITS), exclusive=True)
            session = self.walk.create_session(account)
        else:
            session = self.session()
        if session is None:
            return
        before = self.walk.state(session)
        self.walk.settle(account)
        upload = OverCapUpload(cap + 1)
        ex = self.walk.call(
            "POST",
            f"/api/upload-video/nemo_agent/me/{session.session_id}",
            "uploadFiles",
            account,
            content=upload.chunks(),
            headers={"Content-Type": upload.content_type, "Content-Length": str(upload.length)},
        )
        if ex is None:
            return
        refused = ex.code == 4002 or ex.status == 413
        reason = f"a file 1 byte over the {where} cap of {cap} bytes got HTTP {ex.status}, code {ex.code}"
        self.walk.expect("B-UPL-08", refused, reason, ex)
        after = self.walk.state(session)
        if before is not None and after is not None:
            kept = len(after.get("video_infos") or []) - len(before.get("video_infos") or [])
            self.walk.expect("U-13", kept == 0, f"a refused upload left {kept} file(s) in the state", ex)
        self.walk.unchanged(account, "B-CRED-08", "a refused upload")

    def advertised_cap(self) -> tuple[int | None, str]:
        """The upload cap per file the server states, and where it was read."""
        try:
            response = self.target.http.get("/openapi.json")
            document = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            document = None
        try:
            operation = document["paths"][UPLOAD_PATH]["post"]  # type: ignore[index]
        except (KeyError, TypeError):
            operation = None
        if isinstance(operation, dict) and CAP_FIELD in operation:
            cap = operation[CAP_FIELD]
            return (cap if isinstance(cap, int) and cap > 0 else None), "advertised (/openapi.json)"
        default = load_profile(None)
        return default.upload_cap_bytes, f"{default.name} profile's"

    # ------------------------------------------------------------------ credits and export (mock only)

    def out_of_credits(self) -> None:
        """B-CRED-05: a generation without credits -> 2001 before any stream (U-09); nothing moves."""
        try:
            broke = Account(self.target.new_account("free", 0), exclusive=True)
        except TargetError as exc:
            self.report.note(f"B-CRED-05 not probed: {exc}")
            return
        session = self.walk.create_session(broke)
        if session is None:
            return
        self.walk.settle(broke)
        turn = stream_turn(self.target, run_request(session.session_id, GENERATION), token=broke.token)
        self.walk.judge(turn.outcomes, turn.exchange)
        what = "a stream" if turn.streamed else f"HTTP {turn.exchange.status}, code {turn.exchange.code}"
        reason = f"a generation with 0 credits got {what}, not 2001"
        self.walk.expect("B-CRED-05", turn.exchange.code == 2001, reason, turn.exchange)
        self.walk.unchanged(broke, "B-CRED-05", "a refused generation")

    def export_without_attribution(self) -> None:
        """B-ATTR-08, U-15: an anonymous account exporting without X-Skill-* headers is refused (402)."""
        try:
            anonymous = Account(self.target.new_account("anonymous", 1000), exclusive=True)
        except TargetError as exc:
            self.report.note(f"B-ATTR-08 not probed: {exc}")
            return
        session = self.walk.create_session(anonymous)
        if session is None:
            return
        self.walk.turn(session, GENERATION, "generation")
        self.walk.state(session)
        if not exportable(session.draft):
            return
        body = {"id": f"render_{uuid.uuid4().hex}", "sessionId": session.session_id, "draft": session.draft}
        ex = self.walk.call(
            "POST", "/api/render/proxy/lambda", "submitRender", anonymous, attribution=False, json=body
        )
        if ex is not None:
            # 402, or (v1.9's "possible auth failures", the strict reading) 1001
            ok = (ex.status == 402 and ex.code == 402) or ex.code == 1001
            reason = f"an anonymous export without attribution got HTTP {ex.status}, code {ex.code}"
            self.walk.expect("B-ATTR-08", ok, reason, ex)

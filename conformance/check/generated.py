"""Generated requests over contracts/openapi.yaml with schemathesis: examples, coverage, fuzzing, links.

One driver sends every case through `Case.call` (schemathesis serialises bodies and multipart
parts) and judges the answer twice: with the project's checks (`conformance.check.checks`) and with
schemathesis' own `not_a_server_error`, `status_code_conformance`, `content_type_conformance` and
`response_schema_conformance`, each mapped to the rule the operation's answer is bound by. Nothing
raises back into hypothesis, so no run shrinks against a server whose state has moved on.

The phases: `examples` (every `example`/`examples` of the document), `coverage` (schemathesis'
boundary and missing-part cases, capped per operation), `fuzzing` (hypothesis over each
operation, positive and negative) and `links` (schemathesis' state machine along the OpenAPI
links, e.g. create-session -> state -> render -> poll -> download). Which operations take part
is the target's call (`Target.fuzzable`): no token minting, spending or minutes-long turns where
they are not allowed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.stateful import get_state_machine_test
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from conformance.check.checks import SUCCESS_SHAPES, Outcome, broken, check_exchange, held
from conformance.check.exchange import Exchange
from conformance.check.report import Report
from conformance.check.target import Target
from conformance.check.walks import walk
from conformance.schemathesis_adapter import CoverageGenerator, FailureGroup, FeedbackSources, Ok, Override
from contracts.spec import load_openapi

PHASES = ("examples", "coverage", "fuzzing", "links")
#: Coverage cases per operation, as a multiple of --max-examples (submitRender alone has ~500).
COVERAGE_PER_EXAMPLE = 8
LINK_STEPS = 6
BOTH_MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def _content_rule(operation_id: str) -> str:
    return {"runSse": "B-SSE-04", "downloadRender": "U-14"}.get(operation_id, "B-ENV-06")


def _shape_rule(operation_id: str, ex: Exchange) -> str:
    if ex.code not in (None, 0):
        return "U-02"
    return SUCCESS_SHAPES.get(operation_id, ("", "B-ENV-06"))[1]


#: schemathesis' checks and the rule each failure is charged to.
BUILTIN_CHECKS: tuple[tuple[Callable[..., Any], Callable[[str, Exchange], str]], ...] = (
    (not_a_server_error, lambda op, ex: "B-ERR-01"),
    (status_code_conformance, lambda op, ex: "B-ERR-01"),
    (content_type_conformance, lambda op, ex: _content_rule(op)),
    (response_schema_conformance, _shape_rule),
)


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        phases=[Phase.generate],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


class SchemaDriver:
    """Sends schemathesis cases to the target and records what the checks say."""

    def __init__(self, target: Target, report: Report, *, max_examples: int, seed: int) -> None:
        self.target = target
        self.report = report
        self.max_examples = max(1, max_examples)
        self.seed = seed
        self.schema = schemathesis.openapi.from_dict(load_openapi())
        # The target's own token goes with every case: generated credentials would turn each case
        # into the same 1001 refusal, and nothing past authentication would ever be reached.
        self.schema.config.generation.update(with_security_parameters=False)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = target.http.headers.get("User-Agent", "nemo-contract")
        self.session.hooks["response"].append(self._count)
        self.headers = target.headers()

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.report.sent()

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ operations

    def operations(self) -> list[Any]:
        """The schema's operations this target lets generated requests reach."""
        return [op for op in self.all_operations() if self.target.fuzzable(self.operation_id(op))]

    def all_operations(self) -> list[Any]:
        """Every operation of the document (it is valid: tests/contracts/test_openapi.py)."""
        return [result.ok() for result in self.schema.get_all_operations() if isinstance(result, Ok)]

    @staticmethod
    def operation_id(operation: Any) -> str:
        return str(operation.definition.raw.get("operationId", operation.label))

    def modes(self, operation: Any) -> tuple[GenerationMode, ...]:
        """Negative only where a valid request would mint a rate-limited token (B-AUTH-08/09)."""
        if self.operation_id(operation) == "anonymousToken":
            return (GenerationMode.NEGATIVE,)
        return BOTH_MODES

    # ------------------------------------------------------------------ one case

    def call(self, case: Any) -> Any:
        headers = {**self.headers, **(case.headers or {})}
        return case.call(
            base_url=self.target.base_url,
            session=self.session,
            headers=headers,
            timeout=self.target.timeout_s,
        )

    def send(self, case: Any, phase: str) -> None:
        try:
            response = self.call(case)
        except requests.RequestException as exc:
            reason = f"{case.operation.label}: no answer ({type(exc).__name__})"
            self.report.record([broken("B-ERR-01", reason)], None, phase)
            return
        self.judge(case, response, phase)

    def judge(self, case: Any, response: Any, phase: str) -> None:
        operation_id = self.operation_id(case.operation)
        if str(case.method).upper() != str(case.operation.method).upper():
            # A method the path does not document (coverage tries them): any refusal but a 5xx will do.
            ex = Exchange.from_schemathesis(response, None)
            reason = f"{ex.method} {ex.path} answered HTTP {ex.status}"
            self.report.record(
                [held("B-ERR-01") if ex.status < 500 else broken("B-ERR-01", reason)], ex, phase
            )
            return
        ex = Exchange.from_schemathesis(response, operation_id)
        self.report.record([*check_exchange(ex), *self._builtin(case, response, operation_id, ex)], ex, phase)

    def _builtin(self, case: Any, response: Any, operation_id: str, ex: Exchange) -> list[Outcome]:
        outcomes = []
        for check, rule_of in BUILTIN_CHECKS:
            rule_id = rule_of(operation_id, ex)
            try:
                case.validate_response(response, checks=[check])
            except FailureGroup as group:
                failure = group.exceptions[0]
                title = getattr(failure, "title", type(failure).__name__)
                message = " ".join(str(getattr(failure, "message", "")).split())
                outcomes.append(broken(rule_id, f"{check.__name__}: {title}. {message}".strip()))
            else:
                outcomes.append(held(rule_id))
        return outcomes

    # ------------------------------------------------------------------ the phases

    def run(self, phases: Iterable[str]) -> None:
        runners = {
            "examples": self.examples,
            "coverage": self.coverage,
            "fuzzing": self.fuzzing,
            "links": self.links,
        }
        for phase in phases:
            if phase in runners:
                runners[phase]()

    def examples(self) -> None:
        """Every example of the document, missing parts filled in."""
        strategies = [s for operation in self.operations() for s in operation.get_strategies_from_examples()]
        if not strategies:
            return

        @hypothesis_seed(self.seed)
        @_settings(1)
        @given(cases=st.tuples(*strategies))  # one draw of each example: one hypothesis run, not one each
        def send_all(cases: tuple[Any, ...]) -> None:
            for case in cases:
                self.send(case, "examples")

        try:
            send_all()
        except HypothesisException as exc:
            self.report.note(f"examples: no case could be drawn ({type(exc).__name__})")

    def coverage(self) -> None:
        """schemathesis' coverage cases (boundaries, missing and wrong parts), capped per operation."""
        limit = self.max_examples * COVERAGE_PER_EXAMPLE
        for operation in self.operations():
            generator = CoverageGenerator(
                operation=operation,
                generation_modes=list(self.modes(operation)),
                generation_config=self.schema.config.generation_for(operation=operation, phase="coverage"),
                auth_storage=None,
                override=Override(),
                feedback=FeedbackSources(),
            )
            for case in itertools.islice(generator, limit):
                self.send(case, "coverage")

    def fuzzing(self) -> None:
        """Hypothesis over each operation, positive and negative cases mixed."""
        for operation in self.operations():
            strategy = st.one_of(
                [operation.as_strategy(generation_mode=mode) for mode in self.modes(operation)]
            )
            self._draw(strategy, self.max_examples, "fuzzing")

    def _draw(self, strategy: Any, count: int, phase: str) -> None:
        @hypothesis_seed(self.seed)
        @_settings(count)
        @given(case=strategy)
        def send_each(case: Any) -> None:
            self.send(case, phase)

        try:
            send_each()
        except HypothesisException as exc:
            self.report.note(f"{phase}: a strategy produced no case ({type(exc).__name__})")

    def links(self) -> None:
        """schemathesis' state machine along the OpenAPI links (the token link is never followed)."""
        allowed = {self.operation_id(op) for op in self.operations()} - {"anonymousToken"}
        excluded = sorted({self.operation_id(op) for op in self.all_operations()} - allowed)
        linked = self.schema.exclude(operation_id=excluded) if excluded else self.schema
        driver = self
        base: Any = linked.as_state_machine()

        class Links(base):
            def call(self, case: Any, **kwargs: Any) -> Any:
                return driver.call(case)

            def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
                driver.judge(case, response, "links")

        config = settings(_settings(max(1, self.max_examples // 2)), stateful_step_count=LINK_STEPS)

        def run(seed: int) -> None:
            hypothesis_seed(seed)(get_state_machine_test(Links, settings=config))()

        try:
            walk(run, seed=self.seed, report=self.report, phase="links")
        except requests.RequestException as exc:
            self.report.record(
                [broken("B-ERR-01", f"links: no answer ({type(exc).__name__})")], None, "links"
            )
        except schemathesis.errors.NoLinksFound:
            self.report.note("links: no OpenAPI link connects the operations this target allows")

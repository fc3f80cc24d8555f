"""What a check run found: rules checked, requests sent, broken rules with a reproducing request.

The console form is one line per broken rule (`FAIL <rule id> ...` with the request as curl, the
token masked), notes on what was left out, then the figures. `junit_xml()` gives CI one test case
per rule checked, failed where the rule broke.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

from conformance.check.checks import Outcome
from conformance.check.exchange import Exchange
from contracts.coverage import load_behaviours


@dataclass(slots=True)
class Breach:
    """A rule that broke: the first time it did, with its request, and how often it did."""

    rule_id: str
    reason: str
    phase: str
    curl: str | None
    count: int = 1

    def line(self) -> str:
        seen = f" (seen {self.count} times)" if self.count > 1 else ""
        request = f" | {self.curl}" if self.curl else ""
        return f"FAIL {self.rule_id} [{self.phase}] {self.reason}{seen}{request}"


@dataclass(slots=True)
class Figures:
    """The summary numbers of a run."""

    rules_checked: int
    requests_sent: int
    failures: int
    duration_s: float
    seed: int | None = None

    def line(self) -> str:
        seed = f"  seed: {self.seed}" if self.seed is not None else ""
        return (
            f"rules checked: {self.rules_checked}  requests sent: {self.requests_sent}  "
            f"failures: {self.failures}  duration: {self.duration_s:.1f} s{seed}"
        )


@dataclass
class Report:
    """Collects outcomes from every phase of a run."""

    seed: int | None = None
    checked: dict[str, int] = field(default_factory=dict)  # rule id -> times applied
    breaches: dict[str, Breach] = field(default_factory=dict)  # rule id -> first breach
    requests_sent: int = 0
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a phase that could not finish
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    # ------------------------------------------------------------------ recording

    def sent(self, count: int = 1) -> None:
        self.requests_sent += count

    def record(self, outcomes: Iterable[Outcome], exchange: Exchange | None = None, phase: str = "") -> bool:
        """Add outcomes (with the request that produced them); False if any rule broke."""
        clean = True
        for outcome in outcomes:
            self.checked[outcome.rule_id] = self.checked.get(outcome.rule_id, 0) + 1
            if outcome.failure is None:
                continue
            clean = False
            breach = self.breaches.get(outcome.rule_id)
            if breach is not None:
                breach.count += 1
                continue
            reason = exchange.mask(outcome.failure) if exchange is not None else outcome.failure
            curl = exchange.curl() if exchange is not None else None
            self.breaches[outcome.rule_id] = Breach(outcome.rule_id, reason, phase, curl)
        return clean

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def error(self, phase: str, text: str) -> None:
        self.errors.append(f"[{phase}] {text}")

    def finish(self) -> None:
        self.finished = time.monotonic()

    # ------------------------------------------------------------------ reading

    @property
    def failed_rules(self) -> list[str]:
        return sorted(self.breaches)

    @property
    def ok(self) -> bool:
        return not self.breaches and not self.errors

    @property
    def duration_s(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def figures(self) -> Figures:
        return Figures(len(self.checked), self.requests_sent, len(self.breaches), self.duration_s, self.seed)

    def console_lines(self) -> list[str]:
        lines = [self.breaches[rule_id].line() for rule_id in self.failed_rules]
        lines += [f"ERROR {text}" for text in self.errors]
        lines += [f"note: {text}" for text in self.notes]
        lines.append(self.figures().line())
        return lines

    def as_json(self) -> dict[str, object]:
        """The report as data (`nemo-contract check --format json`)."""
        figures = self.figures()
        return {
            "ok": self.ok,
            "figures": {
                "rules_checked": figures.rules_checked,
                "requests_sent": figures.requests_sent,
                "failures": figures.failures,
                "duration_s": round(figures.duration_s, 3),
                "seed": figures.seed,
            },
            "failures": [
                {"rule": b.rule_id, "phase": b.phase, "reason": b.reason, "request": b.curl, "count": b.count}
                for b in (self.breaches[rule_id] for rule_id in self.failed_rules)
            ],
            "errors": list(self.errors),
            "notes": list(self.notes),
            "rules": {rule_id: self.checked[rule_id] for rule_id in sorted(self.checked)},
        }

    def junit_xml(self) -> str:
        """One test case per rule checked; a failure element where it broke."""
        statements = {rule_id: rule.statement for rule_id, rule in load_behaviours().items()}
        figures = self.figures()
        suite = ET.Element(
            "testsuite",
            name="nemo-contract",
            tests=str(figures.rules_checked),
            failures=str(figures.failures),
            errors="0",
            time=f"{figures.duration_s:.3f}",
        )
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="requests_sent", value=str(figures.requests_sent))
        if self.seed is not None:
            ET.SubElement(properties, "property", name="seed", value=str(self.seed))
        for rule_id in sorted(self.checked):
            area = "U" if rule_id.startswith("U-") else rule_id.split("-")[1]
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"nemo-contract.{area}",
                name=f"{rule_id} {statements.get(rule_id, '')}".strip(),
                time="0",
            )
            breach = self.breaches.get(rule_id)
            if breach is not None:
                failure = ET.SubElement(
                    case, "failure", message=breach.reason, type=breach.phase or "contract"
                )
                failure.text = "\n".join(
                    filter(None, [breach.reason, breach.curl, f"seen {breach.count} times"])
                )
        for text in self.errors:
            case = ET.SubElement(suite, "testcase", classname="nemo-contract.run", name=text, time="0")
            ET.SubElement(case, "error", message=text)
        suite.set("errors", str(len(self.errors)))
        if self.notes:
            ET.SubElement(suite, "system-out").text = "\n".join(self.notes)
        root = ET.Element("testsuites")
        root.append(suite)
        ET.indent(root)
        return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"

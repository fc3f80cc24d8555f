"""`nemo-contract check`: the server-side contract suite, against any base URL.

    from conformance.check.runner import CheckOptions, run_check
    report = run_check(CheckOptions(base_url="http://127.0.0.1:8080", max_examples=5, seed=1))
    report.ok, report.failed_rules, report.console_lines(), report.junit_xml()

Modules: `target` (the server, its control API, what may be spent), `exchange` (one request and
answer, curl form), `checks` (the response checks, also registered with schemathesis), `sse`
(event-by-event stream conformance), `walker` and `stateful` (the user's path: a fixed journey and
a hypothesis state machine), `probes` (targeted requests), `generated` (schemathesis phases),
`report` (console and JUnit), `runner` (one run). `conformance.cli` is the command line.
"""

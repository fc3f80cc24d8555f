"""The checkers on top of the mock and the client: is a server, or a client, true to the contract?

- `check/`: `nemo-contract check`, the server-side suite against any base URL;
- `clientcheck/`: `nemo-contract client-check`, the client-side suite against any client;
- `planted/`: variants of the mock that each break one rule, which the checks must catch;
- `plugin.py`: the pytest plugin `nemo` (the mock and the reference client as fixtures);
- `schemathesis_files.py`: a schemathesis hook for real upload files;
- `cli.py`: the `nemo-contract` command.

The spec they judge by is `contracts`; they reach the mock and the client through public names only
(docs/design.md, "Layers").
"""

"""The mock's state as plain objects with no HTTP in them: accounts, tokens, ledger, sessions, renders."""

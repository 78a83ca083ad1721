"""Facts the rules share: database sessions, module loggers, names and scopes, the syntax pre-check."""

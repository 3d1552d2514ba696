"""The ground floor every folder stands on: the task and row schemas, the run's typed config, and
file writing (atomic JSON, durable appends, redaction of secrets)."""

"""A task's own inputs: the task file (YAML/JSON, or free text the LLM parses) and a dataset's
columns turned into input/output pairs."""

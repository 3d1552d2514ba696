"""A run's rows: the data store, the task file, a dataset's columns as input/output pairs."""

"""A run's own files: the run folder (rundir.py, run_files.py), the row store, the trace and the
context a tool receives."""

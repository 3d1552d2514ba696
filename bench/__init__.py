"""Benchmarks and development helpers (never installed): run a bench as `python -m bench.NAME`.

`bench.fake_openai` is the fault-injecting OpenAI-compatible server the tests and benches talk
to; `bench.fixtures` builds the tiny student model they train.
"""

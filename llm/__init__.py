"""The LLM layer: one interface (llm.py), its backends (the embedded llama.cpp model, any
OpenAI-compatible endpoint, a scripted fake), the factory, retries, accounting, the reply cache."""

"""What makes an LLM an agent: the LLM layer, budgets and accounting, the trace writer."""

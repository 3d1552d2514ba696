"""The agent's tools: plain typed functions, each usable without the agent.

`p2m.tools.toolkit.build_tools` wraps them as LangChain tools bound to one run.
"""

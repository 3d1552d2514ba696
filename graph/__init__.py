"""The LangGraph state machine: state, planner, guard, default policy, tool node, checkpoints."""

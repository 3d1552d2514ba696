"""The agent's decisions: the planner, the default policy, the guard, the planner's gate and the state
it reads (the LangGraph wiring that runs them is in graph/)."""

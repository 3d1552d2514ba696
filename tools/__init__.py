"""What the agent works with: plain typed functions (datasets, generation, training, scoring),
each usable without the agent. The planner's tools are specs over them in `p2m.tools.specs`.
"""

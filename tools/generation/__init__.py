"""Synthetic rows from the LLM: attributes, the shape of each family's row, verification."""

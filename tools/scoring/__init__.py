"""Scoring: predictions, metrics, folds, the honest assessment, baselines and the cascade."""

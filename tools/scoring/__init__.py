"""Scoring and publishing: predictions of student and teacher, folds, the honest assessment (what
is published), the cascade, and the model card written beside the weights."""

"""Finding what a run can start from: dataset and model search, reranking, the fit checks."""

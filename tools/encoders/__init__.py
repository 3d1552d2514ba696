"""The sentence encoders on disk: MiniLM (the shared embedder) and all-mpnet-base-v2."""

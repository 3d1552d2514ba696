"""Training the student: the shared fine-tuning routine, the head on frozen embeddings, memory."""

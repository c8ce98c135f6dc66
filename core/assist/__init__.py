"""The model in the labeling loop: review embeddings, the fast model on them, and what they suggest."""

"""The training engine: a plain PyTorch loop run by a background job that talks through database rows."""

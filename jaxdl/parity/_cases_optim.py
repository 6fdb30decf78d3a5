"""Parity cases for jaxdl.optim (filled in by its module owner)."""

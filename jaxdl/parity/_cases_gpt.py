"""Parity cases for jaxdl.gpt (filled in by its module owner)."""

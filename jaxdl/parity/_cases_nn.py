"""Parity cases for jaxdl.nn (filled in by its module owner)."""

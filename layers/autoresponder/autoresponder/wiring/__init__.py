"""Composition roots: build the real adapters once per execution environment."""

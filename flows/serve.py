"""Placeholder until the deployment wiring lands."""

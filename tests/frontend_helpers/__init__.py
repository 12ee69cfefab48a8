"""Helpers for the frontend tests: comparison utilities and user code living in other modules."""

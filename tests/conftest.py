"""Fixtures shared by the test modules. (A module that defines a fixture of the same name, as
several define their own autouse `x64`, uses its own.)"""
import pytest

import kiln


@pytest.fixture
def x64():
    """jax_enable_x64 on, in kiln and (when it is installed) in JAX, for one test."""
    try:
        import jax
    except ImportError:
        jax = None
    previous = kiln.config.read("jax_enable_x64")
    previous_jax = jax.config.read("jax_enable_x64") if jax is not None else None
    kiln.config.update("jax_enable_x64", True)
    if jax is not None:
        jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        kiln.config.update("jax_enable_x64", previous)
        if jax is not None:
            jax.config.update("jax_enable_x64", previous_jax)

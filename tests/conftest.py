"""Fixtures shared by the test modules. (A module that defines a fixture of the same name, as
several define their own autouse `x64`, uses its own.)"""
import pytest

import kiln


def pytest_configure(config):
    """JAX, the reference the tests compare with, keeps the programs it compiles in its
    persistent cache (keyed by the program, the compile options and JAX's version, so never
    stale) in pytest's cache directory: the other worker, the suite's second run
    (KILN_BACKEND=reference) and later runs load them instead of compiling them again."""
    try:
        import jax
    except ImportError:
        return
    if getattr(config, "cache", None) is None:  # -p no:cacheprovider
        return
    jax.config.update("jax_compilation_cache_dir", str(config.cache.mkdir("jax-compilation-cache")))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


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

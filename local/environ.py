"""Scoped changes of `os.environ`, restored exactly afterwards."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def scoped_environ(
    values: Mapping[str, str], *, drop: Callable[[str], bool] | None = None
) -> Iterator[None]:
    """Drop the variables `drop` selects, set `values`; put the environment back on exit."""
    saved = dict(os.environ)
    try:
        for name in [n for n in os.environ if drop is not None and drop(n)]:
            del os.environ[name]
        os.environ.update(values)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)

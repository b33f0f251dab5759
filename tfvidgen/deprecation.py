"""Deprecated names, kept one release: each call warns once per call site (Python's default filter)."""

import warnings


def deprecated(old, new, owner):
    """Warns that `owner.old` is deprecated in favour of `owner.new` (a `DeprecationWarning` at the caller's line)."""
    warnings.warn(
        f"`{owner}.{old}` is deprecated and will be removed in the next release; use `{owner}.{new}`.",
        DeprecationWarning,
        stacklevel=3,
    )

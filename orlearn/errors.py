"""User-facing errors.

Library code raises :class:`OrlearnError` (or a subclass) for anything a user can fix: a missing
file, a bad name, a policy made for another version. The CLI prints its message on one line and
exits with status 2; everything else is a bug and keeps its traceback.
"""


class OrlearnError(Exception):
    """A problem with the user's input, stated in one line."""


class PolicyFileError(OrlearnError):
    """A policy file that is missing, unreadable, or made for another kind or feature version."""

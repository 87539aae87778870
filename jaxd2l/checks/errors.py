"""Errors a user can fix; experiment entry points print them in one line, no traceback."""


class UserError(Exception):
    """A problem with the user's input or machine, with the fix in its message."""


class DataNotFoundError(UserError, FileNotFoundError):
    """The data is neither on disk nor downloadable."""


class IdxFormatError(UserError, ValueError):
    """An IDX file that is corrupt, truncated, or not the expected IDX file."""


class ArgumentError(UserError, ValueError):
    """A library argument with a bad value, named as its argument (`batch_size must be >= 1,
    got 0`): a ValueError for research code, one line at the command line."""


class ArgumentTypeError(UserError, TypeError):
    """A library argument of the wrong kind (`parallel must be a DataParallel, got int`)."""

from jaxd2l.checks.errors import UserError
from jaxd2l.core.history import DivergedError


def test_user_errors_are_user_errors():
    assert issubclass(DivergedError, UserError)

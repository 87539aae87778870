from jaxd2l import loop
from jaxd2l.errors import UserError


def test_user_errors_are_user_errors():
    assert issubclass(loop.DivergedError, UserError)

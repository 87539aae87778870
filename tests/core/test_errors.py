from jaxd2l.core.errors import UserError
from jaxd2l.core.fit import DivergedError


def test_user_errors_are_user_errors():
    assert issubclass(DivergedError, UserError)

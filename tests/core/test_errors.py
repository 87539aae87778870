from jaxd2l.core.divergence import DivergedError
from jaxd2l.core.errors import UserError


def test_user_errors_are_user_errors():
    assert issubclass(DivergedError, UserError)

import pytest

from experiments import linear_regression as exp
from jaxd2l.experiment import parse_config, run_cli


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["--batch-size", "0"], "--batch-size"),
        (["--lr", "-0.1"], "--lr"),
        (["--epochs", "0"], "--epochs"),
        (["--impl", "magic"], "--impl"),
        (["--lrs", "0.1,-3"], "--lrs"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(argv, flag, capsys):
    with pytest.raises(SystemExit) as e:
        parse_config(exp.Config, argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert flag in err and len(err.splitlines()) == 1


def test_config_checks_apply_to_research_callers_too():
    with pytest.raises(ValueError, match="--batch-size"):
        exp.Config(batch_size=0)


@pytest.mark.parametrize("seed", ["18446744073709551616", "-9223372036854775809", "1.5"])
def test_seeds_a_prng_key_cannot_take_are_flag_errors(seed, capsys):
    from experiments import xor

    with pytest.raises(SystemExit) as e:
        run_cli(xor.main, xor.Config, ["--seed", seed])
    assert e.value.code == 2 and "--seed" in capsys.readouterr().err


def test_non_finite_float_flags_are_refused(capsys):
    from experiments import activations, softmax_regression

    for module, argv in ((softmax_regression, ["--lr", "inf"]), (activations, ["--span", "nan"])):
        with pytest.raises(SystemExit) as e:
            run_cli(module.main, module.Config, argv)
        assert e.value.code == 2 and "must be" in capsys.readouterr().err

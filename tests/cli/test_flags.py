import dataclasses

import pytest

from experiments import linear_regression as exp
from jaxd2l.cli import parse_config, run_cli


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


def test_a_config_is_built_from_the_shared_bases_and_checked_once():
    import dataclasses

    from jaxd2l.cli import ExperimentConfig, SeedFlags, build_parser, flag
    from jaxd2l.cli.flags import FlagError

    checked = []

    @dataclasses.dataclass(frozen=True)
    class Config(SeedFlags):
        width: int = flag(4, "a width", min=1)
        ratio: float = flag(0.5, "a ratio", min=0, lt=1)

        def check(self):
            checked.append(self.width)
            if self.width == 3:
                raise FlagError("--width may not be 3")

    Config(width=2)
    assert checked == [2]
    with pytest.raises(FlagError, match="--ratio must be < 1, got 1.0"):
        Config(ratio=1.0)
    with pytest.raises(FlagError, match="--width may not be 3"):
        Config(width=3)
    assert {f.name for f in dataclasses.fields(Config)} == {"out", "seed", "width", "ratio"}
    flags = [a.dest for a in build_parser(Config, None)._actions if a.dest != "help"]
    assert flags == ["width", "ratio", "out", "seed"]  # the experiment's own flags first
    assert not hasattr(ExperimentConfig(), "seed")  # a Config that draws nothing has no --seed


@pytest.mark.parametrize(
    "module, argv, message",
    [
        ("softmax_regression", ["--checkpoint-dir", ""], "--checkpoint-dir is empty"),
        ("softmax_regression", ["--out", " "], "--out is empty"),
        (
            "mlp",
            ["--coordinator", "h:70000", "--num-processes", "2", "--process-id", "0"],
            "port must be <= 65535",
        ),
        (
            "mlp",
            ["--coordinator", "h:８０８０", "--num-processes", "2", "--process-id", "0"],
            "port must be an integer written in ASCII digits",
        ),
        ("mlp", ["--cpu-devices", "100000"], "--cpu-devices must be <= 256"),
        (
            "linear_regression",
            ["--impl", "closed_form", "--checkpoint-dir", "/tmp/x"],
            "--checkpoint-dir acts on training: --impl closed_form trains nothing",
        ),
        ("linear_regression", ["--impl", "closed_form", "--devices", "2"], "--devices acts"),
        (
            "mlp",
            ["--distributed", "--coordinator", "h:1", "--num-processes", "2", "--process-id", "0"],
            "--distributed finds the cluster itself",
        ),
    ],
)
def test_flags_that_would_do_nothing_or_too_much_are_refused(module, argv, message, capsys):
    import importlib

    exp_module = importlib.import_module(f"experiments.{module}")
    with pytest.raises(SystemExit) as e:
        run_cli(exp_module.main, exp_module.Config, argv)
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and message in err and len(err.splitlines()) == 1


BAD_NUMBERS = ["１２", "1_0", "10s", "0x10", "nan", "inf", "1e999", "٣"]


def _experiment_configs():
    import importlib
    import pathlib

    folder = pathlib.Path(__file__).resolve().parents[2] / "experiments"
    for path in sorted(folder.glob("*.py")):
        if "class Config" not in path.read_text():  # the PyTorch baselines: argparse, torch
            continue
        module = importlib.import_module(f"experiments.{path.stem}")
        if hasattr(module, "Config"):
            yield path.stem, module.Config


def test_every_numeric_flag_of_every_experiment_reads_numbers_one_way(capsys):
    import typing

    from jaxd2l.cli.flags import flag_name
    from jaxd2l.cli.parse import build_parser

    walked = 0
    for name, config in _experiment_configs():
        parser = build_parser(config, None, prog=name)
        hints = typing.get_type_hints(config)
        for field in dataclasses.fields(config):
            kind = hints[field.name]
            kinds = set(typing.get_args(kind)) | {kind}
            if not kinds & {int, float, tuple[int, ...], tuple[float, ...]}:
                continue
            walked += 1
            for bad in BAD_NUMBERS:
                with pytest.raises(SystemExit) as e:
                    parser.parse_args([flag_name(field.name), bad])
                err = capsys.readouterr().err
                assert e.value.code == 2 and err.count("\n") == 1, (name, field.name, bad, err)
                assert "Traceback" not in err
    assert walked > 60  # every experiment's counts, rates, sizes and seeds


def test_ports_and_environment_numbers_go_through_the_same_reader(monkeypatch):
    from jaxd2l.checks.numbers import env_number, read_number

    for text in ("１２３４", "12_34", "80/tcp", "-1", "70000"):
        with pytest.raises(ValueError):
            read_number(text, int, "port", 1, 65535)
    assert read_number(" 8080 ", int, "port", 1, 65535) == 8080
    assert read_number("1e-3", float, "lr") == 0.001
    monkeypatch.setenv("JAXD2L_INIT_TIMEOUT", "３００")
    with pytest.raises(ValueError, match="the environment variable JAXD2L_INIT_TIMEOUT"):
        env_number("JAXD2L_INIT_TIMEOUT", 300, int, 1, 86400)
    monkeypatch.setenv("JAXD2L_INIT_TIMEOUT", "")
    assert env_number("JAXD2L_INIT_TIMEOUT", 300, int, 1, 86400) == 300


def test_every_count_a_user_controls_has_a_stated_bound(capsys):
    import typing

    from jaxd2l.cli.flags import flag_name
    from jaxd2l.cli.parse import build_parser

    unbounded = []
    for name, config in _experiment_configs():
        hints = typing.get_type_hints(config)
        for field in dataclasses.fields(config):
            kinds = set(typing.get_args(hints[field.name])) | {hints[field.name]}
            if kinds & {int, tuple[int, ...]} and "max" not in field.metadata:
                unbounded.append(f"{name} {flag_name(field.name)}")
    assert unbounded == []  # refused before anything is allocated, naming the most
    parser = build_parser(dict(_experiment_configs())["mlp"], None, prog="mlp")
    config = parser.parse_args(["--epochs", "10000000000"])
    with pytest.raises(ValueError, match=r"--epochs must be <= 100000, got 10000000000"):
        dict(_experiment_configs())["mlp"](**vars(config))


def _alternative(field, config):
    """A valid value for `field` other than its default (None when none is obvious)."""
    value, meta = field.default, field.metadata
    if value is None:
        return meta.get("min", 1)
    if isinstance(value, bool):
        return not value
    if "choices" in meta and not isinstance(value, tuple):
        return next((c for c in meta["choices"] if c != value), None)
    if isinstance(value, tuple):
        return tuple(v * 2 if isinstance(v, float) else v + 1 for v in value)
    if isinstance(value, (int, float)):
        bigger = value + 1 if isinstance(value, int) else value * 2
        return bigger if bigger <= meta.get("max", bigger) else value - 1
    return None


def _partner_values(config_cls, field):
    """(name, value) pairs for the other flags: each choice, and the least of a count."""
    for other in dataclasses.fields(config_cls):
        if other.name == field.name:
            continue
        meta = other.metadata
        if "choices" in meta:
            for choice in meta["choices"]:
                yield other.name, (choice,) if isinstance(other.default, tuple) else choice
        elif isinstance(other.default, int) and not isinstance(other.default, bool):
            if "min" in meta:
                yield other.name, meta["min"]


def _argv(name, value):
    from jaxd2l.cli.flags import flag_name

    if value is None:
        return []
    if isinstance(value, bool):
        return [flag_name(name) if value else "--no-" + flag_name(name)[2:]]
    text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
    return [flag_name(name), text]


def test_a_flag_that_acts_only_with_another_is_refused_alone_naming_both(capsys):
    from jaxd2l.cli.flags import flag_name
    from jaxd2l.cli.parse import parse_config

    checked = []
    for name, config_cls in _experiment_configs():
        for field in dataclasses.fields(config_cls):
            if "needs" not in field.metadata:
                continue
            partners, acts = field.metadata["needs"]
            value = _alternative(field, config_cls)
            assert value is not None, (name, field.name)
            for other, other_value in _partner_values(config_cls, field):
                try:
                    if acts(config_cls(**{other: other_value})):
                        continue
                except ValueError:
                    continue
                argv = _argv(other, other_value) + _argv(field.name, value)
                with pytest.raises(SystemExit) as e:
                    parse_config(config_cls, argv, prog=name)
                said = capsys.readouterr().err
                assert e.value.code == 2 and said.count("\n") == 1, said
                assert f"{flag_name(field.name)} acts only with {partners};" in said, said
                # with a partner it acts with, the same value is taken
                acting = next(
                    _argv(o, v)
                    for o, v in [("out", None), *_partner_values(config_cls, field)]
                    if acts(config_cls(**{o: v}))
                )
                try:
                    taken = parse_config(config_cls, acting + _argv(field.name, value))
                    assert getattr(taken, field.name) == value
                except SystemExit:  # refused for a reason of its own (gp without torch)
                    assert "acts only with" not in capsys.readouterr().err
                checked.append(f"{name} {flag_name(field.name)}")
                break
            else:
                raise AssertionError(f"{name} {field.name}: no setting found where it is idle")
    # the search's method flags, mlp's init flags, the benchmark's section flags, the
    # stability run's training flags, the closed form's SGD flags
    assert len(checked) >= 18, checked


def test_rules_across_flags_name_flags_not_arguments(capsys):
    from jaxd2l.cli.parse import parse_config

    configs = dict(_experiment_configs())
    for name, argv, said in [
        ("hparam_search", ["--method", "random", "--lr-range", "0.1,0.01"], "--lr-range must be"),
        ("hparam_search", ["--method", "bayes", "--lr-range", "0.1"], "--lr-range must be two"),
    ]:
        with pytest.raises(SystemExit):
            parse_config(configs[name], argv, prog=name)
        err = capsys.readouterr().err
        assert said in err and "lr_range" not in err, err


def test_a_list_flag_that_names_members_refuses_a_value_twice(capsys):
    from jaxd2l.cli.parse import parse_config

    configs = dict(_experiment_configs())
    for name, argv in [
        ("hparam_search", ["--lrs", "0.1,0.1"]),
        ("model_selection", ["--degrees", "3,3"]),
        ("weight_decay", ["--sweep", "0,1,1"]),
        ("benchmark", ["--sections", "limits,limits"]),
    ]:
        with pytest.raises(SystemExit):
            parse_config(configs[name], argv, prog=name)
        assert "more than once" in capsys.readouterr().err, name
    # layer widths and dropout rates may repeat: they are layers, not members of a sweep
    assert parse_config(configs["mlp"], ["--hidden", "256,256"]).hidden == (256, 256)
    assert parse_config(configs["dropout"], ["--dropout", "0.5,0.5"]).dropout == (0.5, 0.5)

"""The command line to a Config: one typed flag per field, then the rules that need the
whole command line (a flag given without the flag it acts with), and errors in the
flags' vocabulary (`batch_size` -> `--batch-size`)."""

from __future__ import annotations

import argparse
import dataclasses
import re
import types
import typing
from typing import Any

from jaxd2l.checks import numbers
from jaxd2l.cli.flags import FlagError, flag_name, help_order


def check_partners(config_cls: type, given: Any) -> None:
    """Refuse a flag given (a value other than its default) where the flags it needs make
    it do nothing: `--lr-range` with `--method grid`, `--sigma` with `--init xavier`.
    `given` holds the parsed values by name (the argparse namespace, or a Config): checked
    before the Config's own rules and before any derived setting (`--quick`) fills values
    in, so the flag that does nothing is what the line names."""
    for f in dataclasses.fields(config_cls):
        if "needs" not in f.metadata or getattr(given, f.name) == f.default:
            continue
        partners, acts = f.metadata["needs"]
        if not acts(given):
            raise FlagError(
                f"{flag_name(f.name)} acts only with {partners}; here it would do nothing: "
                f"drop it, or use {partners}"
            )


def in_flags(message: str, config_cls: type) -> str:
    """A library error's argument names as the flags that set them, the one place the two
    vocabularies meet: `batch_size` -> `--batch-size` (a name with an underscore, bare or in
    backticks), `` `lr` `` -> `--lr` (a one-word name only in backticks, since it is also
    a word)."""
    if not dataclasses.is_dataclass(config_cls):
        return message
    for argument, field in getattr(config_cls, "ARGUMENT_FLAGS", {}).items():
        message = message.replace(f"`{argument}`", flag_name(field))
    for name in sorted((f.name for f in dataclasses.fields(config_cls)), key=len, reverse=True):
        flag = flag_name(name)
        message = message.replace(f"`{name}`", flag)
        if "_" in name:
            message = re.sub(rf"(?<![\w\-.]){re.escape(name)}(?![\w(])", flag, message)
    return message


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parse_list(item_type):
    read = numbers.number_type(item_type)

    def parse(text: str) -> tuple:
        try:
            return tuple(read(v) for v in text.split(",") if v.strip())
        except (ValueError, argparse.ArgumentTypeError) as e:
            detail = f": {e}" if isinstance(e, argparse.ArgumentTypeError) else ""
            raise argparse.ArgumentTypeError(
                f"expected a comma list of {item_type.__name__}, got {text!r}{detail}"
            ) from None

    return parse


def build_parser(
    config_cls: type, description: str | None, prog: str | None = None
) -> argparse.ArgumentParser:
    """An argparse parser with one typed flag per Config field, the shared ones last."""
    parser = _OneLineParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    hints = typing.get_type_hints(config_cls)
    fields = sorted(dataclasses.fields(config_cls), key=help_order)
    for f in fields:
        kind, help_text = hints[f.name], f.metadata.get("help", "")
        args = typing.get_args(kind)
        if typing.get_origin(kind) in (typing.Union, types.UnionType):  # X | None
            kind = next(a for a in args if a is not type(None))
            args = typing.get_args(kind)
        opts: dict[str, Any] = {"default": f.default, "help": f"{help_text} (default: %(default)s)"}
        if kind is bool:
            opts["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(kind) is tuple:
            opts["type"] = _parse_list(args[0])
            opts["metavar"] = "A,B,..."
        else:
            opts["type"] = numbers.number_type(kind)
            if "choices" in f.metadata:
                opts["choices"] = f.metadata["choices"]
        parser.add_argument(flag_name(f.name), dest=f.name, **opts)
    return parser


def parse_config(
    config_cls: type,
    argv: list[str] | None = None,
    description: str | None = None,
    prog: str | None = None,
):
    parser = build_parser(config_cls, description, prog)
    namespace = parser.parse_args(argv)
    try:
        check_partners(config_cls, namespace)
        config = config_cls(**vars(namespace))
    except ValueError as e:
        parser.error(in_flags(str(e), config_cls))
    return config

"""Command lines generated from config dataclasses, and the shared lottery option group."""

import argparse
import dataclasses
from dataclasses import dataclass, field

import pytest

import shared_mask as sm
from shared_mask.options import (
    add_dataclass_options,
    add_lottery_options,
    dataclass_from_args,
    lottery_config_from_args,
)


@dataclass
class Settings:
    lr: float = field(default=0.1, metadata={"help": "learning rate"})
    layers: int = field(default=2, metadata={"help": "layers"})
    normalize: bool = field(default=True, metadata={"help": "normalize inputs"})
    widths: list[int] = field(default_factory=lambda: [4, 8], metadata={"help": "widths"})
    name: str | None = field(default=None, metadata={"help": "a name", "choices": ["a", "b"]})


def parse(cls, argv, **options):
    parser = argparse.ArgumentParser()
    add_dataclass_options(parser, cls, **options)
    return parser, parser.parse_args(argv)


def test_every_field_becomes_an_option_with_its_default_and_type():
    _, args = parse(Settings, [])
    assert dataclass_from_args(Settings, args) == Settings()
    _, args = parse(Settings, ["--lr", "0.5", "--layers", "3", "--widths", "1", "2", "3", "--name", "b"])
    assert dataclass_from_args(Settings, args) == Settings(lr=0.5, layers=3, widths=[1, 2, 3], name="b")


def test_booleans_are_flags_not_strings():
    _, args = parse(Settings, ["--no-normalize"])
    assert dataclass_from_args(Settings, args).normalize is False
    _, args = parse(Settings, ["--normalize"])
    assert dataclass_from_args(Settings, args).normalize is True
    with pytest.raises(SystemExit):  # "--normalize False" is not a way to switch it off
        parse(Settings, ["--normalize", "False"])


@pytest.mark.parametrize("argv", [["--lr", "nan"], ["--lr", "inf"], ["--layers", "x"], ["--name", "c"]])
def test_bad_values_are_refused_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit):
        parse(Settings, argv)


def test_a_new_field_appears_with_no_other_edit():
    extended = dataclasses.make_dataclass(
        "Extended", [("momentum", float, field(default=0.9, metadata={"help": "momentum"}))], bases=(Settings,)
    )
    _, args = parse(extended, ["--momentum", "0.5"])
    assert dataclass_from_args(extended, args).momentum == 0.5


def test_a_field_without_help_is_an_error_naming_it():
    undocumented = dataclasses.make_dataclass("Undocumented", [("depth", int, field(default=1))])
    with pytest.raises(TypeError, match="Undocumented.depth has no help"):
        parse(undocumented, [])


def test_unset_options_keep_the_base_values():
    parser, args = parse(Settings, ["--layers", "5"], unset_default=True)
    base = Settings(lr=0.3, widths=[2])
    assert dataclass_from_args(Settings, args, base) == Settings(lr=0.3, layers=5, widths=[2])
    assert "the preset's" in parser.format_help()


def test_lottery_options_default_to_the_config_defaults_and_take_registered_choices():
    parser = argparse.ArgumentParser()
    add_lottery_options(parser, rewind="1epoch")
    args = parser.parse_args(["--out", "run"])
    assert lottery_config_from_args(args) == sm.LotteryConfig(rewind="1epoch")
    args = parser.parse_args(
        [
            "--out",
            "run",
            "--tickets",
            "winning",
            "random_mask",
            "--pruning",
            "layerwise_magnitude",
            "--scope",
            "weights",
            "--exclude",
            "bias$",
            "--seeds",
            "4",
        ]
    )
    config = lottery_config_from_args(args)
    assert (config.tickets, config.pruning, config.scope, config.exclude, config.seeds) == (
        ["winning", "random_mask"],
        "layerwise_magnitude",
        "weights",
        ["bias$"],
        [4],
    )
    for name in sm.TICKETS:
        assert name in parser.format_help()


def test_a_domain_default_left_unset_is_filled_by_the_domain():
    parser = argparse.ArgumentParser()
    add_lottery_options(parser, rewind=None)
    assert lottery_config_from_args(parser.parse_args(["--out", "r"]), rewind="1ep").rewind == "1ep"
    assert lottery_config_from_args(parser.parse_args(["--out", "r", "--rewind", "5it"]), rewind="1ep").rewind == "5it"

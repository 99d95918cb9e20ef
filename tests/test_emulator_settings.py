"""Each emulator setting is declared once, and every surface is derived from that field."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from gamelift_emulator import EmulatorControl, EmulatorSettings
from gamelift_emulator.__main__ import add_setting_options
from gamelift_emulator.settings import describe, option_name, setting_names


def _options() -> dict[str, argparse.Action]:
    parser = argparse.ArgumentParser()
    add_setting_options(parser)
    return {a.option_strings[0]: a for a in parser._actions if a.option_strings[1:] == []}


def test_every_declared_setting_is_a_command_line_option_with_its_description() -> None:
    """``python -m gamelift_emulator`` has one option per setting, helped by its description."""
    options = _options()
    for name in setting_names():
        action = options[option_name(name)]
        assert action.dest == name
        assert action.help is not None
        assert describe(name) in action.help
    assert {o for o in options if o != "-h"} == {option_name(n) for n in setting_names()}


def test_the_control_api_and_its_client_take_and_show_every_setting(
    control: EmulatorControl,
) -> None:
    """``EmulatorControl.settings`` accepts each declared name and the answer shows them all."""
    changes: dict[str, float | bool] = {
        f.name: (not f.default) if isinstance(f.default, bool) else 7.0
        for f in dataclasses.fields(EmulatorSettings)
    }
    answer = control.settings(**changes)
    assert answer == changes
    assert control.request("GET", "/settings") == changes
    control.reset()
    assert control.request("GET", "/settings") == dataclasses.asdict(EmulatorSettings())


def test_the_client_refuses_an_undeclared_setting_before_calling(
    control: EmulatorControl,
) -> None:
    """A name that is not a declared setting is a TypeError naming the known ones."""
    with pytest.raises(TypeError, match="unknown settings \\['stop_delay'\\]; known: "):
        control.settings(stop_delay=5)


@pytest.mark.parametrize("text", ["false", "False"])
def test_a_flag_setting_is_an_option_taking_true_or_false(text: str) -> None:
    """A bool setting's option takes ``true``/``false`` and refuses anything else."""
    parser = argparse.ArgumentParser()
    add_setting_options(parser)
    args = parser.parse_args(["--auto-backfill-regenerate", text, "--queued-ms", "5"])
    assert (args.auto_backfill_regenerate, args.queued_ms) == (False, 5.0)
    with pytest.raises(SystemExit):
        parser.parse_args(["--auto-backfill-regenerate", "maybe"])

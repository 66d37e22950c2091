"""Options generated from config fields: every setting has one flag, typed and parsed back to the field's value."""

import re
from dataclasses import dataclass

import pytest
import typer
from typer.testing import CliRunner

from bm.configs import JsonConfig, setting, settings, with_changes
from bm.deep.config import DeepTrainConfig
from bm.options import config_options
from bm.toy.config import ToyGridConfig
from tests.conftest import run


@dataclass(frozen=True)
class Inner:
    depth: int = setting(3, help="Depth.")
    name: str = setting("a", flag="called", help="A name.")


@dataclass(frozen=True)
class Outer(JsonConfig):
    rate: float = setting(0.5, help="A rate.")
    sizes: tuple[int, ...] = setting((1, 2), help="Sizes.")
    classes: int | str | None = setting(None, help="An int or a word.")
    on: bool = setting(True, help="A switch.")
    inner: Inner = setting(factory=Inner, help="Nested.")


def app_for(cls, captured):
    app = typer.Typer()

    @app.command()
    @config_options(cls)
    def main(changes: dict, out: str = "x") -> None:
        captured.append((changes, out))

    return app


def test_each_leaf_setting_is_one_flag_parsed_to_its_field():
    captured = []
    result = CliRunner().invoke(
        app_for(Outer, captured),
        [
            "--rate",
            "0.25",
            "--sizes",
            "4,8",
            "--classes",
            "7",
            "--no-on",
            "--depth",
            "5",
            "--called",
            "b",
            "--out",
            "y",
        ],
    )
    assert result.exit_code == 0, result.output
    changes, out = captured[-1]
    assert out == "y" and changes == {
        "rate": 0.25,
        "sizes": (4, 8),
        "classes": 7,
        "on": False,
        "inner.depth": 5,
        "inner.name": "b",
    }
    assert with_changes(Outer(), changes) == Outer(0.25, (4, 8), 7, False, Inner(5, "b"))
    CliRunner().invoke(app_for(Outer, captured), ["--classes", "per-sample", "--sizes", ""])
    assert captured[-1][0] == {"classes": "per-sample", "sizes": ()}  # a word stays a word; "" is the empty tuple
    CliRunner().invoke(app_for(Outer, captured), [])
    assert captured[-1][0] == {}  # flags not given are not changes
    help_text = " ".join(CliRunner().invoke(app_for(Outer, captured), ["--help"]).output.split())
    assert "A rate. (default: 0.5)" in help_text and "Sizes. (default: 1,2)" in help_text


def test_a_field_without_help_is_refused():
    @dataclass(frozen=True)
    class Bare:
        x: int = 1

    with pytest.raises(TypeError, match="Bare.x has no help"):
        settings(Bare)


@pytest.mark.parametrize("command,cls", [("deep-train", DeepTrainConfig), ("toy-grid", ToyGridConfig)])
def test_every_setting_of_the_config_is_a_flag_of_its_command(capsys, monkeypatch, command, cls):
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = run(capsys, [command, "--help"])
    flags = set(re.findall(r"(?<![\w-])--([A-Za-z][\w-]*)", out))
    assert code == 0 and {s.flag for s in settings(cls)} <= flags

import pytest

from shared_mask import Step, parse_step


@pytest.mark.parametrize(
    "text, step",
    [
        ("0", Step(0, "it")),
        (0, Step(0, "it")),
        ("1000it", Step(1000, "it")),
        ("1000updates", Step(1000, "it")),
        ("12batches", Step(12, "it")),
        ("1ep", Step(1, "ep")),
        ("1epoch", Step(1, "ep")),
        ("3 Epochs", Step(3, "ep")),
    ],
)
def test_parse_step(text, step):
    assert parse_step(text) == step


@pytest.mark.parametrize("text", ["", "abc", "10", "1.5ep", "-1it", "5 fortnights"])
def test_bad_step_is_a_clear_error(text):
    with pytest.raises(ValueError, match="step"):
        parse_step(text)


def test_step_prints_back_as_parsed():
    assert str(parse_step("1epoch")) == "1ep" and str(parse_step("0")) == "0"

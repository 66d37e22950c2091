"""bm.jsonfiles and the checked CSV reader: any bytes give a value or one BMError, never another exception."""

import json

from hypothesis import given
from hypothesis import strategies as st

from bm.errors import BMError
from bm.jsonfiles import MAX_DEPTH, parse_json
from bm.runs import read_csv_rows

values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


def _parsed_or_refused(data):
    try:
        return parse_json(data, "x")
    except BMError as e:
        assert str(e).startswith("x ") and "\n" not in str(e)
        return e


@given(values)
def test_bm_written_values_round_trip_and_oversized_integers_are_refused(value):
    text = json.dumps(value)
    got = _parsed_or_refused(text)
    if isinstance(got, BMError):
        assert "digits" in str(got)  # the only JSON bm refuses that json.dumps makes: integers of 20+ digits
    else:
        assert json.dumps(got) == text


@given(st.binary(max_size=200))
def test_random_bytes_are_a_value_or_one_error(data):
    _parsed_or_refused(data)


@given(st.integers(min_value=1, max_value=3000))
def test_nesting_past_the_limit_is_refused(depth):
    got = _parsed_or_refused("[" * depth + "]" * depth)
    assert isinstance(got, BMError) == (depth > MAX_DEPTH)


@given(st.binary(max_size=300))
def test_a_csv_of_random_bytes_is_rows_or_one_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("csv") / "grid.csv"
    path.write_bytes(b"n,B\n" + data)
    try:
        rows = read_csv_rows(path, integers=("n",), numbers=("B",))
    except BMError as e:
        assert str(e).startswith(str(path)) and "\n" not in str(e)
    else:
        assert all(int(r["n"]) == int(r["n"]) for r in rows)


def test_a_task_log_record_without_a_run_name_is_ignored(tmp_path):
    from bm.launch import run_status

    log = tmp_path / "tasks.jsonl"
    log.write_text('{"event": "started"}\n{"run": [1], "event": 3}\n{"run": "r", "event": "failed", "error": "x"}\n')
    (tmp_path / "r").mkdir()
    (state,) = run_status({"r": tmp_path / "r"}, {"r": 2}, log)
    assert state["run"] == "r" and state["state"] == "failed"

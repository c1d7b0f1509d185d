"""Session config parsing: every mistake named with the file, section and key."""
import pytest

from synchrony.config import load_config
from synchrony.errors import ConfigError

BASE = """
[session]
id = "d1"
[client]
eda = "c.csv"
[therapist]
eda = "t.csv"
[analysis]
modalities = ["eda"]
"""


@pytest.fixture
def session(tmp_path):
    (tmp_path / "c.csv").write_text("time,eda\n")
    (tmp_path / "t.csv").write_text("time,eda\n")
    return tmp_path


def _write(tmp_path, text):
    p = tmp_path / "session.toml"
    p.write_text(text)
    return p


def test_defaults_are_filled_and_paths_resolved(session):
    cfg = load_config(_write(session, BASE))
    assert cfg.session_id == "d1"
    assert cfg.analysis["window"] == 30.0 and cfg.analysis["fs"] == 4.0
    assert cfg.persons["client"].files["eda"] == (session / "c.csv").resolve()


@pytest.mark.parametrize(
    "edit, words",
    [
        (("[analysis]", "[analysis]\nwindwo = 3"), ["unknown key 'windwo'", "window", "[analysis]"]),
        (("[analysis]", "[analysis]\nwindow = -1"), ["window must be > 0"]),
        (("[analysis]", "[analysis]\nwindow = 5.0\nmax_lag = 5.0"), ["max_lag (5.0 s) must be shorter than the window"]),
        (('eda = "c.csv"', 'eda = "missing.csv"'), ["[client]", "missing.csv", "no such file"]),
        (('id = "d1"', 'id = "a/b"'), ["must not contain '/'"]),
        (('modalities = ["eda"]', 'modalities = ["ecg"]'), ["modalities must be"]),
        (("[therapist]", "[therapist]\nfoo = 1"), ["[therapist]", "unknown key 'foo'"]),
        (("[analysis]", '[analysis]\nsurrogate_method = "shuffle"'), ["surrogate_method must be one of", "'shuffle'"]),
        (("[analysis]", '[analysis]\nsurrogate_method = "pseudo_dyad"'), ["batch option", "--pseudo-dyads"]),
    ],
)
def test_mistakes_name_the_place(session, edit, words):
    p = _write(session, BASE.replace(*edit))
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    for w in words:
        assert w in str(exc.value)
    assert str(p) in str(exc.value)


def test_ratings_need_exactly_one_clock(session):
    (session / "r.csv").write_text("time,rating\n1,50\n")
    p = _write(session, BASE + '[ratings]\nclient = "r.csv"\n')
    with pytest.raises(ConfigError, match="exactly one of start_utc"):
        load_config(p)
    p = _write(session, BASE + '[ratings]\nclient = "r.csv"\nstart_utc = "2021-10-25T07:52:00"\n')
    with pytest.raises(ConfigError, match="no timezone"):
        load_config(p)


def test_invalid_toml_is_a_config_error(session):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(session, "[session\nid="))

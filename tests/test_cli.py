"""The command line: bad input gives a one-paragraph message and exit status 2, no traceback."""
import subprocess
import sys

from synchrony.cli import main


def test_missing_config_exits_2_without_traceback(tmp_path, capsys):
    code = main(["run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "nope.toml" in err and "not found" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_console_script_entry_point_runs(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "synchrony.cli", "run", str(tmp_path / "x.toml"), "--out",
                           str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "synchrony: error:" in proc.stderr


def test_help_lists_the_commands(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    for cmd in ("run", "demo", "bench", "batch", "read", "simulate"):
        assert cmd in out

"""The ``synchrony`` command: a thin layer over the public API.

Errors a user can cause (:class:`~synchrony.errors.SynchronyError`, missing or unwritable
files) are printed as one paragraph on stderr, without a traceback, and the command exits
with status 2. ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
import warnings
from pathlib import Path

from .errors import SynchronyError, SynchronyWarning

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


def _sample_config() -> Path:
    """The demo session: sample_recordings/ beside the package (a source checkout)."""
    here = Path(__file__).resolve().parent.parent / "sample_recordings" / "session.toml"
    return here


def _cmd_run(args) -> int:
    from .pipeline import output_paths, run_session

    tree = run_session(args.config, out=args.out, progress=not args.quiet)
    paths = output_paths(args.out, tree.attrs["session_id"])
    _print_summary(tree)
    print(f"report: {paths['html']}")
    return EXIT_OK


def _print_summary(tree) -> None:
    import json

    summary = json.loads(tree["summary"].attrs["json"])
    print(f"session {summary['session_id']}")
    for mod, idx in summary["modalities"].items():
        ms, p, es = idx.get("mean_sync"), idx.get("p_value"), idx.get("effect_size")
        fmt = lambda v, f: "n/a" if v is None else format(v, f)  # noqa: E731
        print(f"  {mod:6s} mean sync {fmt(ms, '.3f')}  p = {fmt(p, '.4f')}  effect size {fmt(es, '.2f')}  "
              f"({idx.get('n_windows')} windows, {idx.get('n_surrogates')} surrogates, {idx.get('surrogate_method')})")
    cong = summary.get("congruence")
    if cong:
        fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
        print(f"  rating congruence r = {fmt(cong.get('r'))} (p naive {fmt(cong.get('p_naive'))}, "
              f"autocorrelation-aware {fmt(cong.get('p_adjusted'))})")
    for w in summary.get("warnings", []):
        print(f"  warning: {w}")


def _cmd_demo(args) -> int:
    config = Path(args.config) if args.config else _sample_config()
    if not config.exists():
        raise SynchronyError(
            f"{config}: the demo session was not found. Run `synchrony demo` from a source checkout, or "
            "make one with `synchrony simulate DIR` and pass --config DIR/session.toml"
        )
    args.config = config
    return _cmd_run(args)


def _cmd_bench(args) -> int:
    from .bench import main as bench_main

    argv = []
    if args.quick:
        argv.append("--quick")
    if args.write:
        argv += ["--write", str(args.write)]
    return bench_main(argv)


def _whole(minimum: int):
    """argparse type: a whole number >= ``minimum`` (argparse prints the message, exit status 2)."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            v = minimum - 1
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, found {text!r}")
        return v
    return parse


def _cmd_batch(args) -> int:
    from .batch import run_batch

    result = run_batch(args.manifest, out=args.out, workers=args.workers, scheduler=args.scheduler,
                       force=args.force, progress=not args.quiet, pseudo_dyads=args.pseudo_dyads,
                       random_state=args.seed, backend=args.backend)
    n = result["n_done"] + result["n_skipped"] + result["n_failed"]
    rate = f", {60 * result['n_done'] / result['seconds']:.1f} sessions/min" if result["n_done"] else ""
    print(f"{result['n_done']} sessions done, {result['n_skipped']} skipped (current), {result['n_failed']} failed "
          f"of {n} in {result['seconds']:.0f} s ({result['executor']}{rate})")
    print(f"study table: {Path(args.out) / 'study.csv'}")
    if result["n_failed"]:
        print(f"failures: {Path(args.out) / 'failures.csv'}", file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK


def _cmd_read(args) -> int:
    from .io import read

    rec = read(args.path, format=args.format)
    print(f"{args.path}: {rec.attrs.get('device', '?')} recording starting {rec.attrs.get('start_utc')}")
    for name, child in rec.children.items():
        t = child["time"].values
        span = f"{t[0]:.2f}–{t[-1]:.2f} s" if t.size else "empty"
        fs = child.attrs.get("fs")
        print(f"  {name:8s} {t.size:8d} samples  {span:22s} {'' if fs is None else f'{fs:g} Hz'}  {child.attrs.get('units', '')}")
    return EXIT_OK


def _cmd_simulate(args) -> int:
    from .simulate import simulate_session

    simulate_session(args.out, duration_s=args.duration, seed=args.seed)
    print(f"simulated session written to {args.out} (config: {Path(args.out) / 'session.toml'})")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="synchrony",
        description="Physiological synchrony for psychotherapy research (windowed cross-correlation, "
        "surrogate tests, dial-rating alignment).",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress messages")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run one session from its session.toml")
    r.add_argument("config", help="the session config (TOML)")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=_cmd_run)

    d = sub.add_parser("demo", help="run the sample session and write its report")
    d.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    d.add_argument("--config", default=None, help=argparse.SUPPRESS)
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(func=_cmd_demo)

    b = sub.add_parser("bench", help="time the WCC kernel against its peers")
    b.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    b.add_argument("--write", default=None, help="also write the table to this Markdown file")
    b.set_defaults(func=_cmd_bench)

    bt = sub.add_parser("batch", help="run many sessions from a manifest")
    bt.add_argument("manifest", help="manifest (TOML or CSV)")
    bt.add_argument("--out", required=True, help="output folder (sessions, study.csv, failures.csv, batch_log.csv)")
    g = bt.add_mutually_exclusive_group()
    g.add_argument("--workers", type=_whole(1), default=None,
                   help="run in N local processes (a dask LocalCluster when dask.distributed is installed)")
    g.add_argument("--scheduler", default=None, help="address of a dask.distributed scheduler")
    bt.add_argument("--force", action="store_true", help="redo sessions whose outputs are current")
    bt.add_argument("--pseudo-dyads", type=_whole(0), default=0, metavar="N",
                    help="also test each session against up to N pseudo-dyads (its client with other "
                         "sessions' therapists; same-dyad sessions excluded); 0 = off (default)")
    bt.add_argument("--backend", choices=("auto", "dask", "processes"), default="auto",
                    help="what --workers starts: a dask LocalCluster when installed (auto), or a process pool")
    bt.add_argument("--seed", type=_whole(0), default=None, help="seed of the pseudo-dyad draws")
    bt.add_argument("-q", "--quiet", action="store_true")
    bt.set_defaults(func=_cmd_batch)

    rd = sub.add_parser("read", help="read an export and list its streams")
    rd.add_argument("path")
    rd.add_argument("--format", default=None)
    rd.set_defaults(func=_cmd_read)

    s = sub.add_parser("simulate", help="write a simulated dyad session (E4 exports, ratings, session.toml)")
    s.add_argument("out")
    s.add_argument("--duration", type=float, default=1500.0, help="seconds (default 1500)")
    s.add_argument("--seed", type=int, default=20211025)
    s.set_defaults(func=_cmd_simulate)
    return p


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a SynchronyWarning as one plain line (no source location); others as Python does."""
    if issubclass(category, SynchronyWarning):
        print(f"synchrony: warning: {message}", file=file or sys.stderr)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if warnings.showwarning is _default_showwarning:
        warnings.showwarning = _show_warning
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return int(args.func(args) or 0)
    except SynchronyError as exc:
        if args.debug:
            raise
        _fail(str(exc))
        return EXIT_USAGE
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        if args.debug:
            raise
        _fail(f"{exc.filename or ''}: {exc.strerror or exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _fail("interrupted; no partial output was left behind")
        return 130


def _fail(message: str) -> None:
    width = max(60, min(100, os.get_terminal_size(sys.stderr.fileno()).columns if sys.stderr.isatty() else 100))
    print(textwrap.fill(f"synchrony: error: {message}", width=width, break_long_words=False,
                        break_on_hyphens=False), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Surrogate generators: series that keep one property of the data and destroy the pairing.

Every generator takes ``random_state`` (an int, ``None`` or a ``numpy.random.Generator``;
no global RNG) and returns an array of shape ``(n_surrogates, N)``. Lengths here are in
samples (``segment_n``, ``min_shift_n``); :func:`synchrony.stats.surrogate_test` converts
seconds once.

Missing values are never invented. Shuffles move NaN with the samples around them;
:func:`phase_randomise` and :func:`iaaft` work on each run of finite samples separately and
leave every gap where it was, still NaN.

- :func:`segment_shuffle`: the series cut into slots of ``segment_n`` samples (the last one
  shorter when ``N`` is not a multiple), slot contents deranged so that no segment stays in
  place (Moulder et al. 2018): uniformly random derangements, or (``cyclic=True``)
  rotations by whole segments, the only kind the surrogate test uses (random
  derangements are miscalibrated; see :mod:`synchrony.stats.inference`).
- :func:`circular_shift`: the series rotated by a random shift kept away from zero.
- :func:`phase_randomise`: Fourier phases randomised, amplitudes kept (Theiler et al. 1992).
- :func:`iaaft`: iterative amplitude-adjusted Fourier transform (Schreiber & Schmitz 1996),
  which keeps both the amplitude distribution and, closely, the spectrum.
- :func:`pseudo_dyads`: partners drawn from other sessions, roles kept or not.
"""
from __future__ import annotations

import math

import numpy as np

from synchrony.errors import ConfigError, InputError

__all__ = [
    "as_generator",
    "derangement",
    "n_derangements",
    "apply_slot_permutation",
    "draw_shifts",
    "segment_slots",
    "segment_shuffle",
    "circular_shift",
    "finite_runs",
    "phase_randomise",
    "iaaft",
    "pseudo_dyads",
]


def as_generator(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """Turn ``random_state`` into a ``numpy.random.Generator`` (never the global RNG).

    >>> bool(as_generator(3).integers(10) == as_generator(3).integers(10))
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise ConfigError(
        f"random_state: expected an int, None or a numpy.random.Generator, found "
        f"{type(random_state).__name__} {random_state!r}"
    )


def _series(y, name: str = "y") -> np.ndarray:
    arr = np.asarray(getattr(y, "values", y), dtype=float)
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D series, found shape {arr.shape}")
    return arr


def _count(n_surrogates: int) -> int:
    if int(n_surrogates) != n_surrogates or n_surrogates < 1:
        raise ConfigError(f"n_surrogates: expected a positive integer, found {n_surrogates!r}")
    return int(n_surrogates)


# --------------------------------------------------------------------------- shuffles
def derangement(k: int, *, random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """A uniformly random permutation of ``range(k)`` with no fixed point.

    Rejection sampling: a uniform permutation is a derangement with probability about
    ``1/e``, so the expected number of draws is below 3.

    >>> p = derangement(6, random_state=0)
    >>> sorted(p.tolist()) == list(range(6)) and bool((p != range(6)).all())
    True
    """
    if k < 2:
        raise ConfigError(f"derangement: needs at least 2 items to move, found {k}")
    rng = as_generator(random_state)
    idx = np.arange(k)
    while True:
        p = rng.permutation(k)
        if not (p == idx).any():
            return p


def n_derangements(k: int) -> int:
    """The number of derangements of ``k`` items (subfactorial ``!k``).

    >>> [n_derangements(k) for k in range(2, 7)]
    [1, 2, 9, 44, 265]
    """
    return round(math.factorial(k) / math.e) if k > 0 else 1


def segment_slots(n: int, segment_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Slot starts and lengths: ``ceil(n / segment_n)`` slots, the last one the remainder.

    >>> segment_slots(10, 4)
    (array([0, 4, 8]), array([4, 4, 2]))
    """
    if segment_n < 1:
        raise ConfigError(f"segment_n: expected a positive number of samples, found {segment_n}")
    starts = np.arange(0, n, segment_n)
    lengths = np.minimum(segment_n, n - starts)
    return starts, lengths


def apply_slot_permutation(y: np.ndarray, segment_n: int, perm: np.ndarray) -> np.ndarray:
    """Slot ``p`` of the result holds the start of slot ``perm[p]`` of ``y``.

    A full segment moved into the shorter last slot keeps only its first samples; the
    short remainder moved into a full slot leaves that slot's end NaN (missing, not
    filled). Every value of the result is an observed sample of ``y`` or NaN.

    >>> apply_slot_permutation(np.arange(5.0), 2, np.array([2, 0, 1]))
    array([ 4., nan,  0.,  1.,  2.])
    """
    y = np.asarray(y, dtype=float)
    starts, lengths = segment_slots(y.size, segment_n)
    out = np.full(y.size, np.nan)
    for p, q in enumerate(perm):
        m = min(lengths[p], lengths[q])
        out[starts[p]:starts[p] + m] = y[starts[q]:starts[q] + m]
    return out


def segment_shuffle(
    y,
    segment_n: int,
    *,
    n_surrogates: int = 1,
    random_state: int | np.random.Generator | None = None,
    return_permutations: bool = False,
    cyclic: bool = False,
):
    """Segment-shuffled surrogates: slot contents deranged, none left in place.

    ``y`` is cut into slots of ``segment_n`` samples; when ``N`` is not a multiple of
    ``segment_n`` the last slot is the shorter remainder and takes part in the derangement
    like the others (see :func:`apply_slot_permutation` for how unequal lengths meet).

    Parameters
    ----------
    y : array_like, shape (N,)
        The series to shuffle (NaN travels with its segment).
    segment_n : int
        Segment length in samples; at least two slots are needed.
    n_surrogates : int
        How many surrogates.
    random_state : int, Generator or None
        Source of randomness.
    return_permutations : bool
        Also return the ``(n_surrogates, n_slots)`` slot permutations.
    cyclic : bool
        Draw only rotations ``p -> (p + d) % n_slots``, ``d`` uniform on ``1..n_slots-1``:
        still derangements, and the ones :func:`synchrony.stats.surrogate_test` uses,
        because random derangements are miscalibrated on autocorrelated signals (see
        :mod:`synchrony.stats.inference`).

    Returns
    -------
    numpy.ndarray, shape (n_surrogates, N) (and the permutations when asked)

    Examples
    --------
    >>> s = segment_shuffle(np.arange(10.0), 4, n_surrogates=2, random_state=1)
    >>> s.shape
    (2, 10)
    """
    y = _series(y)
    n = _count(n_surrogates)
    starts, _ = segment_slots(y.size, segment_n)
    if starts.size < 2:
        raise ConfigError(
            f"segment_shuffle: segment_n={segment_n} samples leaves {starts.size} segment(s) in "
            f"a series of {y.size} samples; at least 2 are needed"
        )
    rng = as_generator(random_state)
    k = starts.size
    if cyclic:
        d = rng.integers(1, k, size=n)
        perms = (np.arange(k)[None, :] + d[:, None]) % k
    else:
        perms = np.stack([derangement(k, random_state=rng) for _ in range(n)])
    out = np.stack([apply_slot_permutation(y, segment_n, p) for p in perms])
    return (out, perms) if return_permutations else out


def draw_shifts(
    n: int, length: int, min_shift_n: int, *, random_state: int | np.random.Generator | None = None
) -> np.ndarray:
    """``n`` shifts uniform on ``[min_shift_n, length - min_shift_n]`` (the circular-shift draw).

    >>> d = draw_shifts(1000, 10, 3, random_state=0)
    >>> int(d.min()), int(d.max())
    (3, 7)
    """
    if min_shift_n < 1 or length - min_shift_n < min_shift_n:
        raise ConfigError(
            f"circular_shift: min_shift_n={min_shift_n} needs a series of at least "
            f"{2 * max(min_shift_n, 1)} samples, found {length}"
        )
    rng = as_generator(random_state)
    return rng.integers(min_shift_n, length - min_shift_n + 1, size=int(n))


def circular_shift(
    y,
    min_shift_n: int,
    *,
    n_surrogates: int = 1,
    random_state: int | np.random.Generator | None = None,
    return_shifts: bool = False,
):
    """Circularly shifted surrogates ``np.roll(y, d)`` with ``min_shift_n <= d <= N - min_shift_n``.

    The shift is uniform on that range, so no surrogate pairs a sample with a partner
    closer than ``min_shift_n`` samples in either direction. The one join (the end of
    ``y`` meeting its start) sits at index ``d`` of the surrogate.

    Examples
    --------
    >>> s, d = circular_shift(np.arange(8.0), 3, n_surrogates=2, random_state=0,
    ...                       return_shifts=True)
    >>> bool(np.all((d >= 3) & (d <= 5))) and np.array_equal(s[0], np.roll(np.arange(8.0), d[0]))
    True
    """
    y = _series(y)
    n = _count(n_surrogates)
    shifts = draw_shifts(n, y.size, min_shift_n, random_state=random_state)
    out = np.stack([np.roll(y, int(d)) for d in shifts])
    return (out, shifts) if return_shifts else out


# --------------------------------------------------------------------------- Fourier
def finite_runs(y: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of every maximal run of finite samples.

    >>> finite_runs(np.array([1.0, 2.0, np.nan, 3.0, np.inf, 4.0, 5.0]))
    [(0, 2), (3, 4), (5, 7)]
    """
    ok = np.isfinite(np.asarray(y, dtype=float)).astype(np.int8)
    edges = np.diff(np.concatenate(([0], ok, [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _random_phases(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    """Unit phasors for the rfft bins of length-``m`` runs: DC (and Nyquist) stay real."""
    nb = m // 2 + 1
    ph = np.exp(2j * np.pi * rng.random((n, nb)))
    ph[:, 0] = 1.0
    if m % 2 == 0:
        ph[:, -1] = np.sign(rng.random((n,)) - 0.5)  # a real-valued random sign
    return ph


def _per_run(y, n_surrogates, random_state, min_run_n, make):
    y = _series(y)
    n = _count(n_surrogates)
    if min_run_n < 4:
        raise ConfigError(f"min_run_n: expected at least 4 samples, found {min_run_n}")
    rng = as_generator(random_state)
    out = np.full((n, y.size), np.nan)
    for a, b in finite_runs(y):
        if b - a >= min_run_n:
            out[:, a:b] = make(y[a:b], n, rng)
    return out


def phase_randomise(
    y,
    *,
    n_surrogates: int = 1,
    random_state: int | np.random.Generator | None = None,
    min_run_n: int = 16,
) -> np.ndarray:
    """Fourier phase-randomised surrogates, run by run.

    Each run of at least ``min_run_n`` finite samples gets its own surrogate with the same
    periodogram and mean and uniformly random phases. Gaps stay NaN where they were;
    runs shorter than ``min_run_n`` cannot be randomised and become NaN too (marked
    missing, never copied through, which would leak the original pairing).

    Examples
    --------
    >>> y = np.sin(np.arange(64) / 3.0)
    >>> s = phase_randomise(y, n_surrogates=1, random_state=0)[0]
    >>> bool(np.allclose(np.abs(np.fft.rfft(s)), np.abs(np.fft.rfft(y))))
    True
    """

    def make(run, n, rng):
        spec = np.fft.rfft(run)
        return np.fft.irfft(spec[None, :] * _random_phases(rng, n, run.size), n=run.size, axis=1)

    return _per_run(y, n_surrogates, random_state, min_run_n, make)


def iaaft(
    y,
    *,
    n_surrogates: int = 1,
    random_state: int | np.random.Generator | None = None,
    max_iter: int = 200,
    min_run_n: int = 16,
) -> np.ndarray:
    """Iterative amplitude-adjusted Fourier-transform surrogates (Schreiber & Schmitz 1996).

    Run by run (see :func:`phase_randomise` for gaps and short runs): start from a random
    shuffle of the run, then alternate imposing the run's Fourier amplitudes and its exact
    value distribution (rank-ordering) until the ranks stop changing or ``max_iter``. The
    result has exactly the run's values, re-ordered, and nearly its periodogram.

    Examples
    --------
    >>> y = np.cumsum(np.random.default_rng(0).normal(size=128))
    >>> s = iaaft(y, n_surrogates=2, random_state=1)
    >>> bool(np.array_equal(np.sort(s[0]), np.sort(y)))
    True
    """
    if max_iter < 1:
        raise ConfigError(f"max_iter: expected a positive integer, found {max_iter}")

    def make(run, n, rng):
        amp = np.abs(np.fft.rfft(run))
        sorted_vals = np.sort(run)
        s = np.stack([rng.permutation(run) for _ in range(n)])
        order = np.argsort(s, axis=1, kind="stable")
        vals = np.broadcast_to(sorted_vals, s.shape)
        for _ in range(max_iter):
            spec = np.fft.rfft(s, axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                phase = np.where(spec != 0, spec / np.abs(spec), 1.0)
            s_spec = np.fft.irfft(amp[None, :] * phase, n=run.size, axis=1)
            new_order = np.argsort(s_spec, axis=1, kind="stable")
            s = np.empty_like(s_spec)
            np.put_along_axis(s, new_order, vals, axis=1)  # rank-order: exact values back
            if np.array_equal(new_order, order):
                break
            order = new_order
        return s

    return _per_run(y, n_surrogates, random_state, min_run_n, make)


# --------------------------------------------------------------------------- sessions
def pseudo_dyads(
    n_sessions: int,
    *,
    keep_roles: bool = True,
    n: int | None = None,
    random_state: int | np.random.Generator | None = None,
) -> list[tuple[int, str, int, str]]:
    """Pairs of people from different sessions: ``(session_a, role_a, session_b, role_b)``.

    With ``keep_roles=True`` every pair is a client (``x``) from one session with a
    therapist (``y``) from another, so the lag sign keeps its meaning. With
    ``keep_roles=False`` any person is paired with any person of another session (each
    unordered pair once, the lower session first). ``n=None`` returns every pair in a
    fixed order; otherwise ``n`` distinct pairs drawn at random (all of them when fewer
    exist).

    Examples
    --------
    >>> pseudo_dyads(3)
    [(0, 'client', 1, 'therapist'), (0, 'client', 2, 'therapist'), (1, 'client', 0, 'therapist'), (1, 'client', 2, 'therapist'), (2, 'client', 0, 'therapist'), (2, 'client', 1, 'therapist')]
    >>> len(pseudo_dyads(3, keep_roles=False))
    12
    """
    if n_sessions < 2:
        raise ConfigError(f"pseudo_dyads: needs at least 2 sessions, found {n_sessions}")
    roles = ("client", "therapist")
    if keep_roles:
        pairs = [(i, "client", j, "therapist") for i in range(n_sessions)
                 for j in range(n_sessions) if i != j]
    else:
        pairs = [(i, ra, j, rb) for i in range(n_sessions) for j in range(i + 1, n_sessions)
                 for ra in roles for rb in roles]
    if n is None or n >= len(pairs):
        return pairs
    rng = as_generator(random_state)
    pick = np.sort(rng.choice(len(pairs), size=int(n), replace=False))
    return [pairs[i] for i in pick]

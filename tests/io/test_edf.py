"""EDF/EDF+/BDF reader on files written with pyedflib to the EDF(+)/BDF specification.

No real EDF sample lives in ../shared/realdata, so these files are written here: EDF (16-bit),
EDF+ with annotations, BDF (24-bit), with mixed per-signal rates, as the specification allows.
"""
from __future__ import annotations

import numpy as np
import pytest

from synchrony.errors import InputError
from synchrony.io import read
from synchrony.io.edf import read_edf, sniff

from ._writers import write_edf

pyedflib = pytest.importorskip("pyedflib")

@pytest.mark.parametrize("filetype,suffix", [("FILETYPE_EDF", "edf"), ("FILETYPE_EDFPLUS", "edf"),
                                             ("FILETYPE_BDF", "bdf"), ("FILETYPE_BDFPLUS", "bdf")])
def test_native_rates_and_values(tmp_path, filetype, suffix):
    path, signals = write_edf(tmp_path / f"x.{suffix}", getattr(pyedflib, filetype))
    assert sniff(path)
    rec = read(path, timezone="Europe/Zurich")  # the dispatcher finds it by its header
    assert rec.attrs["start_utc"] == "2021-10-25T07:52:00.000000Z"  # 09:52 CEST = 07:52 UTC
    assert rec.attrs["timezone"] == "Europe/Zurich"
    assert {n: rec[n].attrs["fs"] for n in ("ecg", "eda", "resp")} == {"ecg": 256.0, "eda": 32.0, "resp": 16.0}
    assert rec["ecg"].sizes["time"] == 1024 and rec["resp"].sizes["time"] == 64
    assert rec["eda"]["eda"].attrs["units"] == "µS"
    assert rec["eda"]["eda"].attrs["units_original"] == "uS"
    # 16-bit over ±10 units: quantum 20/65535 ≈ 3.1e-4; 24-bit: ≈ 1.2e-6 (half a quantum of error at most)
    tol = 20 / 65535 if "EDF" in filetype else 20 / 16777215
    np.testing.assert_allclose(rec["eda"]["eda"].values, signals[1], atol=tol)
    assert rec["ecg"]["time"].values[-1] == pytest.approx(1023 / 256)


def test_edfplus_annotations_become_tags(tmp_path):
    path, _ = write_edf(tmp_path / "a.edf", pyedflib.FILETYPE_EDFPLUS,
                     annotations=[(2.5, -1, "video start"), (0.5, 1.0, "clap")])
    rec = read_edf(path)
    tags = rec["tags"]
    assert tags["time"].values.tolist() == [0.5, 2.5]  # sorted by onset
    assert tags["label"].values.tolist() == ["clap", "video start"]
    assert tags["tag"].values.tolist() == [1, 2]
    assert tags["duration"].values[0] == 1.0 and np.isnan(tags["duration"].values[1])  # none given
    assert "fs" not in tags.attrs


def test_channel_map(tmp_path):
    path, _ = write_edf(tmp_path / "m.edf", pyedflib.FILETYPE_EDF)
    rec = read_edf(path, channel_map={"^Resp$": "resp", "^ECG$": "bvp"})
    # the user's map is literal; the unmatched "EDA" channel may not take the shared name "eda"
    # (only a mapping gives a shared name), so it is suffixed
    assert set(rec.children) == {"bvp", "eda_channel", "resp"}


def test_hostile_edf(tmp_path):
    path, _ = write_edf(tmp_path / "h.edf", pyedflib.FILETYPE_EDFPLUS)
    data = bytearray(path.read_bytes())
    bad = tmp_path / "bad.edf"
    bad.write_bytes(b"1       " + bytes(data[8:]))
    assert not sniff(bad)
    with pytest.raises(InputError, match="bad.edf bytes 0-7"):
        read_edf(bad)
    disc = tmp_path / "disc.edf"
    data[192:197] = b"EDF+D"
    disc.write_bytes(bytes(data))
    with pytest.raises(InputError, match="disc.edf header field 'reserved'.*EDF\\+D"):
        read_edf(disc)
    trunc = tmp_path / "trunc.edf"
    trunc.write_bytes(path.read_bytes()[:700])
    with pytest.raises(InputError, match="trunc.edf"):
        read_edf(trunc)
    with pytest.raises(InputError, match="timezone='Nowhere'"):
        read_edf(path, timezone="Nowhere")

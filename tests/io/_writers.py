"""Writers of spec-conforming sample files, shared by the reader tests and the contract test.

No real EDF/BDF, XDF, BIDS or Shimmer sample lives in ../shared/realdata, so these write them:
EDF/EDF+/BDF with pyedflib to the EDF(+)/BDF specification; XDF chunk by chunk to the XDF
specification v1.0; BIDS physio per the BIDS specification; Shimmer CSV in the Consensys layout.
Each module's test file says what is checked on them.
"""
from __future__ import annotations

import gzip
import json
import struct
from datetime import datetime

import numpy as np

EDF_START = datetime(2021, 10, 25, 9, 52, 0)  # local clock time, as EDF stores it


def write_edf(path, filetype, *, annotations=()):
    """ECG 256 Hz, EDA 32 Hz, Resp 16 Hz for 4 s; ``filetype`` a pyedflib FILETYPE_*; returns (path, signals)."""
    import pyedflib

    fs = {"ECG": 256, "EDA": 32, "Resp": 16}
    n_sec = 4
    w = pyedflib.EdfWriter(str(path), len(fs), file_type=filetype)
    headers, signals = [], []
    for label, rate in fs.items():
        t = np.arange(rate * n_sec) / rate
        signals.append(np.sin(2 * np.pi * t) + (5 if label == "EDA" else 0))
        headers.append({"label": label, "dimension": {"ECG": "mV", "EDA": "uS", "Resp": "a.u."}[label],
                        "sample_frequency": rate, "physical_min": -10, "physical_max": 10,
                        "digital_min": -8388608 if filetype in (pyedflib.FILETYPE_BDF, pyedflib.FILETYPE_BDFPLUS)
                        else -32768,
                        "digital_max": 8388607 if filetype in (pyedflib.FILETYPE_BDF, pyedflib.FILETYPE_BDFPLUS)
                        else 32767})
    w.setSignalHeaders(headers)
    w.setStartdatetime(EDF_START)
    for onset, dur, text in annotations:
        w.writeAnnotation(onset, dur, text)
    w.writeSamples(signals)
    w.close()
    return path, signals


def _varlen(n: int) -> bytes:
    if n < 256:
        return b"\x01" + bytes([n])
    return b"\x04" + struct.pack("<I", n)


def _chunk(tag: int, content: bytes) -> bytes:
    body = struct.pack("<H", tag) + content
    return _varlen(len(body)) + body


def _stream_header(sid, name, stype, nch, srate, fmt, source, units=None):
    chans = ""
    if units:
        chans = "<desc><channels>" + "".join(f"<channel><label>c{i}</label><unit>{u}</unit></channel>"
                                            for i, u in enumerate(units)) + "</channels></desc>"
    xml = (f'<?xml version="1.0"?><info><name>{name}</name><type>{stype}</type><channel_count>{nch}'
           f"</channel_count><nominal_srate>{srate}</nominal_srate><channel_format>{fmt}</channel_format>"
           f"<source_id>{source}</source_id><created_at>100.0</created_at>{chans}</info>")
    return _chunk(2, struct.pack("<I", sid) + xml.encode())


def _samples(sid, stamps, rows, fmt):
    out = struct.pack("<I", sid) + _varlen(len(stamps))
    for t, row in zip(stamps, rows):
        out += b"\x08" + struct.pack("<d", t)
        if fmt == "string":
            for v in row:
                raw = v.encode()
                out += _varlen(len(raw)) + raw
        else:
            out += struct.pack("<" + "f" * len(row), *row)
    return _chunk(3, out)


def _clock(sid, collected, offset):
    return _chunk(4, struct.pack("<I", sid) + struct.pack("<dd", collected, offset))


def _footer(sid, stamps):
    xml = (f'<?xml version="1.0"?><info><first_timestamp>{stamps[0]}</first_timestamp><last_timestamp>'
           f"{stamps[-1]}</last_timestamp><sample_count>{len(stamps)}</sample_count></info>")
    return _chunk(6, struct.pack("<I", sid) + xml.encode())


def write_xdf(path, *, datetime="2021-10-25T09:52:00+0200", client_offset=0.0):
    """Client ECG 128 Hz + IBI (ms), therapist EDA 4 Hz, two session markers; LSL clock from 1000 s."""
    head = '<?xml version="1.0"?><info><version>1.0</version>'
    head += f"<datetime>{datetime}</datetime>" if datetime else ""
    data = b"XDF:" + _chunk(1, (head + "</info>").encode())
    ecg_t = 1000.0 + np.arange(256) / 128.0        # client ECG, 128 Hz, LSL clock of its own machine
    eda_t = 1000.5 + np.arange(20) / 4.0           # therapist EDA, 4 Hz
    ibi_t = np.array([1000.8, 1001.6, 1002.5])     # client IBI stream, irregular, in ms
    mk_t = np.array([1000.25, 1001.0])             # session markers
    data += _stream_header(1, "client_ecg", "ECG", 1, 128, "float32", "dev-client", ["mV"])
    data += _stream_header(2, "therapist_eda", "EDA", 1, 4, "float32", "dev-therapist", ["uS"])
    data += _stream_header(3, "client_ibi", "IBI", 1, 0, "float32", "dev-client", ["ms"])
    data += _stream_header(4, "session", "Markers", 1, 0, "string", "markers")
    data += _samples(1, ecg_t[:128], [[float(i)] for i in range(128)], "float32")
    data += _samples(2, eda_t, [[2.0 + i / 10] for i in range(20)], "float32")
    data += _samples(4, mk_t, [["video start"], ["clap"]], "string")
    data += _samples(1, ecg_t[128:], [[float(i)] for i in range(128, 256)], "float32")
    data += _samples(3, ibi_t, [[800.0], [800.0], [900.0]], "float32")
    for sid in (1, 2, 3, 4):
        off = client_offset if sid in (1, 3) else 0.0
        data += _clock(sid, 1000.0, off) + _clock(sid, 1003.0, off)
    data += _footer(1, ecg_t) + _footer(2, eda_t) + _footer(3, ibi_t) + _footer(4, mk_t)
    path.write_bytes(data)
    return path


def write_bids(root, *, start_time=-1.5, acq_time="2021-10-25T09:52:00", rows=None, columns=None):
    """A 50 Hz cardiac/trigger/respiratory physio file of sub-01 with a scans.tsv acq_time; returns the .tsv.gz."""
    func = root / "sub-01" / "ses-1" / "func"
    func.mkdir(parents=True)
    stem = "sub-01_ses-1_task-rest_run-1"
    rows = rows if rows is not None else [f"{0.1 * i:.1f}\t{i % 2}\tn/a" if i == 3 else f"{0.1 * i:.1f}\t{i % 2}\t{i}"
                                          for i in range(100)]
    with gzip.open(func / f"{stem}_physio.tsv.gz", "wt") as fh:
        fh.write("\n".join(rows) + "\n")
    meta = {"SamplingFrequency": 50.0, "StartTime": start_time,
            "Columns": columns or ["cardiac", "trigger", "respiratory"], "cardiac": {"Units": "mV"}}
    (func / f"{stem}_physio.json").write_text(json.dumps(meta))
    if acq_time is not None:
        (root / "sub-01" / "ses-1" / "sub-01_ses-1_scans.tsv").write_text(
            f"filename\tacq_time\nfunc/{stem}_bold.nii.gz\t{acq_time}\n")
    return func / f"{stem}_physio.tsv.gz"


SHIMMER_FS = 32768 / 256  # 128 Hz, one of Shimmer's clock divisions
SHIMMER_T0_MS = 1_635_148_245_000.0  # 2021-10-25T07:50:45Z


def shimmer_text(sep="\t", n=64, newline="\n", final=True, trailing=True):
    """A Consensys export of Shimmer 8B73 at 128 Hz (acc, GSR, PPG, HR, temperature) as text."""
    names = ["Timestamp_Unix", "Accel_LN_X", "Accel_LN_Y", "Accel_LN_Z", "GSR_Skin_Conductance",
             "GSR_Skin_Resistance", "PPG_A13", "PPGtoHR", "Temperature_BMP280"]
    units = ["ms", "m/(s^2)", "m/(s^2)", "m/(s^2)", "uS", "kOhms", "mV", "BPM", "Degrees Celsius"]
    end = sep if trailing else ""
    shown = "\\t" if sep == "\t" else sep  # Consensys writes a literal backslash-t
    lines = ['"sep=' + shown + '"',
             sep.join(f"Shimmer_8B73_{s}_CAL" for s in names) + end, sep.join(units) + end]
    for i in range(n):
        t = SHIMMER_T0_MS + i * 1000 / SHIMMER_FS
        vals = [f"{t:.3f}", "0.1", "0.2", "9.8", f"{2 + i / 1000:.4f}", "500", f"{1000 + i}", "70", "31.5"]
        lines.append(sep.join(vals) + end)
    return newline.join(lines) + (newline if final else "")

"""Recordings: the compact format's round trip, rotation, cut-short files, the JSON converter."""

from __future__ import annotations

import json
import math
import zlib

import numpy as np
import pytest

from pyclick.cli import main
from pyclick.plot import main as plot_main
from pyclick.plot import per_second_imbalance
from pyclick.record import Recorder, TickRecord, read_recording, read_records, recording_files
from pyclick.recordcodec import FrameState, encode


def tick(t: float, counts: list[int], table: list[int], moves=(), **extra) -> TickRecord:
    fields = dict(t=t, tick=0.1, cores=[0, 1], loads=[0.25, 0.5], counts=counts, table=table,
                  moves=[list(m) for m in moves], imbalance=0.01, solver_us=12.5, in_use=2)
    fields.update(extra)
    return TickRecord(**fields)


def five_ticks() -> list[TickRecord]:
    """Two cores, four buckets: bucket 1 moves to core 1 at 0.3 s; 1.1 s is the next second."""
    even, moved = [0, 1, 0, 1], [0, 0, 0, 1]
    return [
        tick(0.1, [1, 2, 3, 4], [0, 0, 0, 1], moves=[(1, 1, 0)], ideal=2, drops=0,
             latency_us=[1.0, 1.5, 2.25]),
        tick(0.2, [10, 20, 30, 40], moved, imbalance=math.nan),
        tick(0.3, [100, 200, 300, 400], even, moves=[(1, 0, 1)], loads=[0.123456, 1e-9]),
        tick(0.4, [5, 6, 7, 8], even, drops=3),
        tick(1.1, [0, 0, 0, 9], even, cores=[0, 1, 2], loads=[0.1, 0.2, 0.3], in_use=3),
    ]


def write(path, records, **rotation) -> None:
    recorder = Recorder(path, now=lambda: 0.0, **rotation)
    for record in records:
        recorder.write(record)
    recorder.close()


def same(a: TickRecord, b: TickRecord, counts: list[int]) -> None:
    left, right = dict(a.__dict__), dict(b.__dict__, counts=counts)
    assert left.keys() == right.keys()
    for key in left:
        if key == "imbalance" and math.isnan(right[key]):
            assert math.isnan(left[key])
        else:
            assert left[key] == right[key], key


def test_compact_round_trip_sums_each_buckets_counts_while_its_core_stays(tmp_path):
    records = five_ticks()
    write(tmp_path / "run.rec", records)
    back = list(read_records(tmp_path / "run.rec"))
    assert len(back) == 5
    # 0.1 s holds every bucket (the table before it is not known); 0.2 s
    # moves nothing; 0.3 s moves bucket 1, which gives its packets of 0.2 s
    # and 0.3 s (20 + 200); 0.4 s ends its second and gives every other
    # bucket's since 0.1 s (bucket 0: 10 + 100 + 5) and bucket 1's since
    # 0.3 s; 1.1 s is the last.
    expected = [[1, 2, 3, 4], [], [0, 220, 0, 0], [115, 6, 337, 448], [0, 0, 0, 9]]
    for got, written, counts in zip(back, records, expected):
        same(got, written, counts)
    assert (tmp_path / "run.rec").read_bytes().startswith(b"PYCLICK-RECORD 2\n")


def test_a_table_replaced_without_moves_gives_the_counts_of_the_buckets_it_changed(tmp_path):
    records = [tick(0.1, [1, 1, 1, 1], [0, 1, 0, 1]),
               tick(0.2, [2, 3, 4, 5], [1, 0, 0, 1]),      # buckets 0 and 1 swapped cores
               tick(0.3, [10, 10, 10, 10], [1, 0, 0, 1])]
    write(tmp_path / "run.rec", records)
    back = list(read_records(tmp_path / "run.rec"))
    # Buckets 0 and 1 give their 0.2 s packets there; 2 and 3 keep theirs
    # (4 and 5) until the last record.
    for got, written, counts in zip(back, records, [[1, 1, 1, 1], [2, 3, 0, 0],
                                                    [10, 10, 14, 15]]):
        same(got, written, counts)


def test_counts_of_buckets_a_record_does_not_change_are_refused():
    state = FrameState()
    encode(dict(tick(0.1, [1, 1], [0, 1]).__dict__), state)
    with pytest.raises(ValueError, match="does not move"):
        encode(dict(tick(0.2, [0, 1], [1, 1], moves=[(0, 0, 1)]).__dict__), state,
               some_counts=True)


def test_the_first_compact_version_still_reads(tmp_path):
    path = tmp_path / "old.rec"
    state, deflate = FrameState(), zlib.compressobj(9, zlib.DEFLATED, -15)
    records = five_ticks()[:2]
    frames = b"".join(encode(dict(r.__dict__), state) for r in records)
    path.write_bytes(b"PYCLICK-RECORD 1\n" + deflate.compress(frames) + deflate.flush())
    back = list(read_records(path))
    for got, written in zip(back, records):
        same(got, written, written.counts)
    assert len(back) == 2


def test_json_lines_keep_every_tick_and_agree_per_second(tmp_path):
    records = five_ticks()
    write(tmp_path / "run.jsonl", records)
    write(tmp_path / "run.rec", records)
    lines = (tmp_path / "run.jsonl").read_text().splitlines()
    assert len(lines) == 5 and json.loads(lines[2])["counts"] == [100, 200, 300, 400]
    every = list(read_records(tmp_path / "run.jsonl"))
    for got, written in zip(every, records):
        same(got, written, written.counts)
    # Per second, per core, both formats give the same figures.
    for a, b in zip(per_second_imbalance(every),
                    per_second_imbalance(list(read_records(tmp_path / "run.rec")))):
        assert np.array_equal(a, b, equal_nan=True)


def test_the_plot_leaves_out_a_last_second_the_run_left_early():
    # Ticks of 0.25 s on two cores, one bucket each: second 0 serves 30 and
    # 60 packets, (60 - 30) / 30 = 100%; second 1 serves 120 and 120, 0%.
    # The tick at 2.0 s is all of second 2 the run saw: its 5 and 50 packets
    # (900%) are no second's figure.
    records = [tick(t, counts, [0, 1], tick=0.25)
               for t, counts in ((0.25, [10, 20]), (0.5, [10, 20]), (0.75, [10, 20]),
                                 (1.0, [30, 30]), (1.25, [30, 30]), (1.5, [30, 30]),
                                 (1.75, [30, 30]), (2.0, [5, 50]))]
    seconds, balanced, static = per_second_imbalance(records)
    assert seconds.tolist() == [0.5, 1.5]
    assert balanced.tolist() == [1.0, 0.0] and static.tolist() == [1.0, 0.0]
    # Ending at 1.75 s, whose next tick opens second 2, second 1 is whole.
    assert per_second_imbalance(records[:-1])[0].tolist() == [0.5, 1.5]
    # A run shorter than a second still shows the part it has.
    assert per_second_imbalance(records[:2])[1].tolist() == [1.0]


def test_rotation_keeps_the_newest_files_in_order(tmp_path):
    path = tmp_path / "run.jsonl"
    # 38 lines of the same length (t from 0.1 to 3.8), 5 lines to a file.
    records = [tick(round(0.1 * i, 1), [7, 7, 7, 7], [0, 1, 0, 1]) for i in range(1, 39)]
    line = len(json.dumps(records[0].__dict__, separators=(",", ":"))) + 1
    write(path, records, max_bytes=5 * line, keep=2)
    # Lines 1-35 filled 7 files; the last two are kept, lines 36-38 are in FILE.
    assert recording_files(path) == [tmp_path / "run.jsonl.2", tmp_path / "run.jsonl.1", path]
    assert not (tmp_path / "run.jsonl.3").exists()
    assert [f.stat().st_size for f in recording_files(path)] == [5 * line, 5 * line, 3 * line]
    assert [r.t for r in read_recording(path)] == [r.t for r in records[25:]]


def test_rotated_compact_files_each_read_alone(tmp_path):
    path = tmp_path / "run.rec"
    records = [tick(0.5 * i, [i, 2 * i, 3, 4], [0, 1, 0, 1]) for i in range(1, 201)]
    write(path, records, max_bytes=400, keep=50)
    files = recording_files(path)
    assert len(files) > 3 and files[-1] == path and files[0].name == f"run.rec.{len(files) - 1}"
    for file in files:
        assert file.read_bytes().startswith(b"PYCLICK-RECORD 2\n")
        assert next(read_records(file)).cores == [0, 1]   # each file names its cores
    back = list(read_recording(path))
    assert [r.t for r in back] == [r.t for r in records]
    # Ticks two a second, one table: each second's last tick holds its sums.
    assert sum(sum(r.counts) for r in back) == sum(sum(r.counts) for r in records)


@pytest.mark.parametrize("name", ["run.rec", "run.jsonl"])
def test_a_file_cut_short_reads_up_to_its_last_whole_record(tmp_path, name):
    path = tmp_path / name
    records = [tick(0.5 * i, [i, 1, 1, 1], [0, 1, 0, 1]) for i in range(1, 101)]
    write(path, records)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])   # as if the writer died there
    back = list(read_records(path))
    assert 20 < len(back) < 80
    assert [r.t for r in back] == [r.t for r in records[:len(back)]]


def test_corrupt_compact_data_names_the_file(tmp_path):
    path = tmp_path / "run.rec"
    write(path, five_ticks())
    data = bytearray(path.read_bytes())
    data[20:40] = b"\xff" * 20
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="run.rec"):
        list(read_records(path))


def test_plot_converts_to_json_and_stays_quiet_off_a_terminal(tmp_path, capsys):
    path = tmp_path / "run.rec"
    write(path, five_ticks())
    assert plot_main([str(path), "--to-json"]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x["t"] for x in lines] == [0.1, 0.2, 0.3, 0.4, 1.1]
    assert lines[2]["counts"] == [0, 220, 0, 0]
    assert err == ""   # standard error is not a terminal here: no progress bar
    assert plot_main([str(path), "-o", str(tmp_path / "run.png")]) == 0
    assert capsys.readouterr().err == ""


def test_the_compact_format_is_a_fifth_of_json_lines_on_the_demo(tmp_path):
    sizes = {}
    for name in ("run.rec", "run.jsonl"):
        path = tmp_path / name
        config = ("fd :: SimNIC(CORES 8, RETA_SIZE 128, DURATION 4, SEED 1, QUIET true) -> Discard;"
                  "db :: DeviceBalancer(METHOD rsspp, DEV fd, CPUS 8, RSSCOUNTER xdp,"
                  " CYCLES realcpu, TIMER 10, TIMER_MAX 1000, TARGET_LOAD 0.75, VERBOSE 0,"
                  f" RECORD {path}); xdp :: SimCounter(DEV fd);")
        assert main(["-e", config]) == 0
        ticks = list(read_records(path))
        assert len(ticks) > 100
        sizes[name] = path.stat().st_size / len(ticks)
    assert sizes["run.rec"] * 5 <= sizes["run.jsonl"]


@pytest.mark.parametrize("name", ["full", "full.jsonl"])
def test_a_recording_that_cannot_be_written_stops_and_the_balancing_goes_on(
        tmp_path, caplog, name):
    # A file system with no space left: every write fails with ENOSPC, as
    # /dev/full's do. The JSON lines variant flushes each record, the compact
    # one once a second.
    import errno
    import os
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full to stand for a full disk")
    path = tmp_path / name
    os.symlink("/dev/full", path)
    config = ("fd :: SimNIC(CORES 4, RETA_SIZE 128, DURATION 3, SEED 1, QUIET true) -> Discard;"
              "db :: DeviceBalancer(METHOD rsspp, DEV fd, CPUS 4, RSSCOUNTER xdp, TIMER 10,"
              f" TIMER_MAX 10, VERBOSE 0, RECORD {path}); xdp :: SimCounter(DEV fd);")
    with caplog.at_level("INFO"):
        # The run ends with the simulated 3 s, not with the failed write.
        assert main(["-e", config, "-h", "db.moves"]) == 0
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [f"RECORD: cannot write '{path}': {os.strerror(errno.ENOSPC)}; "
                      "the recording ends here; the balancing goes on without it"]

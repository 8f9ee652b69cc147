"""The bpf(2) commands pyclick issues itself, through ctypes.

Creating maps and loading bytecode assembled in Python (for what bcc
cannot compile), test runs of a program on a crafted packet
(BPF_PROG_TEST_RUN), handles on programs and maps by id or by their pin
in a BPF filesystem, the ids of every loaded program and map, their info
records, and whole-array reads and writes in one call
(BPF_MAP_LOOKUP_BATCH / BPF_MAP_UPDATE_BATCH) straight into numpy arrays,
which bcc's table classes only offer entry by entry. None of this needs a
compiler, so a process can also inspect maps that another one loaded. The
attribute layouts are the kernel's UAPI ``union bpf_attr`` members, which
only ever grow at the end, so a short prefix is accepted.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
from dataclasses import dataclass

import numpy as np

_SYSCALL_BPF = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361, "s390x": 351}

BPF_MAP_CREATE = 0
BPF_MAP_LOOKUP_ELEM = 1
BPF_PROG_LOAD = 5
BPF_OBJ_PIN = 6
BPF_OBJ_GET = 7
BPF_PROG_TEST_RUN = 10
BPF_PROG_GET_NEXT_ID = 11
BPF_MAP_GET_NEXT_ID = 12
BPF_PROG_GET_FD_BY_ID = 13
BPF_MAP_GET_FD_BY_ID = 14
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_MAP_LOOKUP_BATCH = 24
BPF_MAP_UPDATE_BATCH = 26

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class BpfError(OSError):
    """A bpf() command failed; errno and the command name are in the message."""


def _bpf(cmd: int, attr: ctypes.Structure, what: str) -> int:
    number = _SYSCALL_BPF.get(platform.machine())
    if number is None:
        raise BpfError(0, f"bpf(): unsupported architecture {platform.machine()}")
    result = _libc.syscall(number, ctypes.c_int(cmd), ctypes.byref(attr),
                           ctypes.c_uint(ctypes.sizeof(attr)))
    if result < 0:
        err = ctypes.get_errno()
        raise BpfError(err, f"bpf({what}): {os.strerror(err)}")
    return result


class _MapCreateAttr(ctypes.Structure):
    _fields_ = [("map_type", ctypes.c_uint32), ("key_size", ctypes.c_uint32),
                ("value_size", ctypes.c_uint32), ("max_entries", ctypes.c_uint32),
                ("map_flags", ctypes.c_uint32), ("inner_map_fd", ctypes.c_uint32),
                ("numa_node", ctypes.c_uint32), ("map_name", ctypes.c_char * 16)]


def map_create(map_type: int, key_size: int, value_size: int, max_entries: int,
               name: str) -> int:
    """Create a map; returns its fd."""
    attr = _MapCreateAttr(map_type=map_type, key_size=key_size, value_size=value_size,
                          max_entries=max_entries, map_name=name.encode()[:15])
    return _bpf(BPF_MAP_CREATE, attr, f"BPF_MAP_CREATE {name}")


class _ProgLoadAttr(ctypes.Structure):
    _fields_ = [("prog_type", ctypes.c_uint32), ("insn_cnt", ctypes.c_uint32),
                ("insns", ctypes.c_uint64), ("license", ctypes.c_uint64),
                ("log_level", ctypes.c_uint32), ("log_size", ctypes.c_uint32),
                ("log_buf", ctypes.c_uint64), ("kern_version", ctypes.c_uint32),
                ("prog_flags", ctypes.c_uint32), ("prog_name", ctypes.c_char * 16),
                ("prog_ifindex", ctypes.c_uint32), ("expected_attach_type", ctypes.c_uint32)]


BPF_PROG_TYPE_XDP = 6
INSN_SIZE = 8


def prog_load(prog_type: int, insns: bytes, name: str, license: str = "GPL",
              expected_attach_type: int = 0, prog_flags: int = 0, ifindex: int = 0
              ) -> int:
    """Load bytecode as a program; returns its fd. A refusal carries the verifier's log."""
    code = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(license.encode())
    log = ctypes.create_string_buffer(1 << 16)
    attr = _ProgLoadAttr(prog_type=prog_type, insn_cnt=len(insns) // INSN_SIZE,
                         insns=ctypes.addressof(code), license=ctypes.addressof(lic),
                         log_level=1, log_size=ctypes.sizeof(log), log_buf=ctypes.addressof(log),
                         prog_flags=prog_flags, prog_name=name.encode()[:15],
                         prog_ifindex=ifindex, expected_attach_type=expected_attach_type)
    try:
        return _bpf(BPF_PROG_LOAD, attr, f"BPF_PROG_LOAD {name}")
    except BpfError as err:
        verifier = log.value.decode(errors="replace").strip()
        if not verifier:
            raise
        raise BpfError(err.errno, f"{err.strerror}\nverifier: {verifier}") from err


class _TestRunAttr(ctypes.Structure):
    _fields_ = [("prog_fd", ctypes.c_uint32), ("retval", ctypes.c_uint32),
                ("data_size_in", ctypes.c_uint32), ("data_size_out", ctypes.c_uint32),
                ("data_in", ctypes.c_uint64), ("data_out", ctypes.c_uint64),
                ("repeat", ctypes.c_uint32), ("duration", ctypes.c_uint32),
                ("ctx_size_in", ctypes.c_uint32), ("ctx_size_out", ctypes.c_uint32),
                ("ctx_in", ctypes.c_uint64), ("ctx_out", ctypes.c_uint64),
                ("flags", ctypes.c_uint32), ("cpu", ctypes.c_uint32),
                ("batch_size", ctypes.c_uint32)]


@dataclass(frozen=True)
class TestRun:
    """What one BPF_PROG_TEST_RUN reported."""

    retval: int
    duration_ns: int
    data_out: bytes


def prog_test_run(prog_fd: int, packet: bytes, repeat: int = 1) -> TestRun:
    """Run a loaded program ``repeat`` times on ``packet`` inside the kernel.

    ``duration_ns`` is the kernel's mean time per run.
    """
    data_in = ctypes.create_string_buffer(packet, len(packet))
    data_out = ctypes.create_string_buffer(len(packet) + 256)
    attr = _TestRunAttr(prog_fd=prog_fd, data_size_in=len(packet),
                        data_size_out=ctypes.sizeof(data_out),
                        data_in=ctypes.addressof(data_in), data_out=ctypes.addressof(data_out),
                        repeat=repeat)
    _bpf(BPF_PROG_TEST_RUN, attr, "BPF_PROG_TEST_RUN")
    return TestRun(attr.retval, attr.duration, data_out.raw[: attr.data_size_out])


class _GetFdByIdAttr(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint32), ("next_id", ctypes.c_uint32),
                ("open_flags", ctypes.c_uint32)]


def prog_fd_by_id(prog_id: int) -> int:
    """A new file descriptor holding the program ``prog_id`` alive."""
    return _bpf(BPF_PROG_GET_FD_BY_ID, _GetFdByIdAttr(id=prog_id), "BPF_PROG_GET_FD_BY_ID")


def map_fd_by_id(map_id: int) -> int:
    """A new file descriptor on the map ``map_id``."""
    return _bpf(BPF_MAP_GET_FD_BY_ID, _GetFdByIdAttr(id=map_id), "BPF_MAP_GET_FD_BY_ID")


def _next_ids(cmd: int, what: str) -> list[int]:
    ids = []
    attr = _GetFdByIdAttr(id=0)
    while True:
        try:
            _bpf(cmd, attr, what)
        except BpfError as err:
            if err.errno == errno.ENOENT:
                return ids
            raise
        ids.append(attr.next_id)
        attr.id = attr.next_id


def prog_ids() -> list[int]:
    """Ids of every program loaded in the kernel, ascending."""
    return _next_ids(BPF_PROG_GET_NEXT_ID, "BPF_PROG_GET_NEXT_ID")


def map_ids() -> list[int]:
    """Ids of every map in the kernel, ascending."""
    return _next_ids(BPF_MAP_GET_NEXT_ID, "BPF_MAP_GET_NEXT_ID")


class _ObjAttr(ctypes.Structure):
    _fields_ = [("pathname", ctypes.c_uint64), ("bpf_fd", ctypes.c_uint32),
                ("file_flags", ctypes.c_uint32)]


def obj_pin(fd: int, path: str) -> None:
    """Pin the program or map ``fd`` at ``path`` in a BPF filesystem."""
    name = ctypes.create_string_buffer(os.fsencode(path))
    _bpf(BPF_OBJ_PIN, _ObjAttr(pathname=ctypes.addressof(name), bpf_fd=fd),
         f"BPF_OBJ_PIN {path}")


def obj_get(path: str) -> int:
    """A new file descriptor on the program or map pinned at ``path``."""
    name = ctypes.create_string_buffer(os.fsencode(path))
    return _bpf(BPF_OBJ_GET, _ObjAttr(pathname=ctypes.addressof(name)), f"BPF_OBJ_GET {path}")


class _InfoAttr(ctypes.Structure):
    _fields_ = [("bpf_fd", ctypes.c_uint32), ("info_len", ctypes.c_uint32),
                ("info", ctypes.c_uint64)]


class _ProgInfo(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("id", ctypes.c_uint32),
                ("tag", ctypes.c_uint8 * 8), ("jited_prog_len", ctypes.c_uint32),
                ("xlated_prog_len", ctypes.c_uint32), ("jited_prog_insns", ctypes.c_uint64),
                ("xlated_prog_insns", ctypes.c_uint64), ("load_time", ctypes.c_uint64),
                ("created_by_uid", ctypes.c_uint32), ("nr_map_ids", ctypes.c_uint32),
                ("map_ids", ctypes.c_uint64), ("name", ctypes.c_char * 16)]


class _MapInfo(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("id", ctypes.c_uint32),
                ("key_size", ctypes.c_uint32), ("value_size", ctypes.c_uint32),
                ("max_entries", ctypes.c_uint32), ("map_flags", ctypes.c_uint32),
                ("name", ctypes.c_char * 16)]


def _info(fd: int, info: ctypes.Structure, what: str) -> None:
    attr = _InfoAttr(bpf_fd=fd, info_len=ctypes.sizeof(info), info=ctypes.addressof(info))
    _bpf(BPF_OBJ_GET_INFO_BY_FD, attr, what)


@dataclass(frozen=True)
class ProgInfo:
    id: int
    type: int
    name: str
    map_ids: tuple[int, ...]


@dataclass(frozen=True)
class MapInfo:
    id: int
    type: int
    name: str
    key_size: int
    value_size: int
    max_entries: int


def prog_info(prog_fd: int) -> ProgInfo:
    """Id, type, (truncated) name and the maps a loaded program uses."""
    probe = _ProgInfo()
    _info(prog_fd, probe, "BPF_OBJ_GET_INFO_BY_FD(prog)")
    ids = (ctypes.c_uint32 * max(probe.nr_map_ids, 1))()
    info = _ProgInfo(nr_map_ids=probe.nr_map_ids, map_ids=ctypes.addressof(ids))
    _info(prog_fd, info, "BPF_OBJ_GET_INFO_BY_FD(prog)")
    count = min(info.nr_map_ids, probe.nr_map_ids)
    return ProgInfo(info.id, info.type, info.name.decode(errors="replace"),
                    tuple(ids[:count]))


def map_info(map_fd: int) -> MapInfo:
    """Id, type, (truncated) name and geometry of a map."""
    info = _MapInfo()
    _info(map_fd, info, "BPF_OBJ_GET_INFO_BY_FD(map)")
    return MapInfo(info.id, info.type, info.name.decode(errors="replace"),
                   info.key_size, info.value_size, info.max_entries)


@functools.cache
def possible_cpus() -> int:
    """How many CPUs a per-CPU map value spans (the kernel's possible CPUs)."""
    text = open("/sys/devices/system/cpu/possible").read().strip()
    highest = 0
    for part in text.split(","):
        highest = max(highest, int(part.split("-")[-1]))
    return highest + 1


class _ElemAttr(ctypes.Structure):
    _fields_ = [("map_fd", ctypes.c_uint32), ("pad", ctypes.c_uint32),
                ("key", ctypes.c_uint64), ("value", ctypes.c_uint64), ("flags", ctypes.c_uint64)]


def lookup_elem(map_fd: int, key: bytes, value_size: int) -> bytes:
    """The raw value stored under ``key`` (raises BpfError ENOENT when absent)."""
    key_buf = ctypes.create_string_buffer(key, len(key))
    value = ctypes.create_string_buffer(value_size)
    attr = _ElemAttr(map_fd=map_fd, key=ctypes.addressof(key_buf), value=ctypes.addressof(value))
    _bpf(BPF_MAP_LOOKUP_ELEM, attr, "BPF_MAP_LOOKUP_ELEM")
    return value.raw


class _BatchAttr(ctypes.Structure):
    _fields_ = [("in_batch", ctypes.c_uint64), ("out_batch", ctypes.c_uint64),
                ("keys", ctypes.c_uint64), ("values", ctypes.c_uint64),
                ("count", ctypes.c_uint32), ("map_fd", ctypes.c_uint32),
                ("elem_flags", ctypes.c_uint64), ("flags", ctypes.c_uint64)]


def _per_cpu_stride(value_size: int) -> int:
    """Bytes one CPU's copy of a per-CPU value takes (the kernel pads to 8)."""
    return (value_size + 7) // 8 * 8


def read_array(map_fd: int, entries: int, dtype: np.dtype | type, per_cpu: bool = False
               ) -> np.ndarray:
    """Every value of an array map (u32 keys 0..entries-1) in one batch lookup.

    Returns shape (entries,) or, for a per-CPU map, (possible_cpus(), entries).
    """
    dtype = np.dtype(dtype)
    cpus = possible_cpus() if per_cpu else 1
    stride = _per_cpu_stride(dtype.itemsize) if per_cpu else dtype.itemsize
    if stride != dtype.itemsize:
        raise ValueError(f"per-CPU values of {dtype.itemsize} bytes are padded; "
                         f"read them as an 8-byte type")
    keys = np.zeros(entries, dtype=np.uint32)
    values = np.zeros((entries, cpus), dtype=dtype)
    out_batch = ctypes.c_uint32(0)
    done = 0
    while done < entries:
        attr = _BatchAttr(in_batch=ctypes.addressof(out_batch) if done else 0,
                          out_batch=ctypes.addressof(out_batch),
                          keys=keys[done:].ctypes.data, values=values[done:].ctypes.data,
                          count=entries - done, map_fd=map_fd)
        try:
            _bpf(BPF_MAP_LOOKUP_BATCH, attr, "BPF_MAP_LOOKUP_BATCH")
        except BpfError as err:
            # ENOENT marks the end of the map; ``count`` holds what was read.
            if err.errno != errno.ENOENT:
                raise
            done += attr.count
            break
        if attr.count == 0:
            break
        done += attr.count
    if done != entries or not np.array_equal(keys, np.arange(entries, dtype=np.uint32)):
        raise BpfError(errno.EIO, f"bpf(BPF_MAP_LOOKUP_BATCH): read {done} of {entries} "
                                  f"entries out of order")
    return values.T.copy() if per_cpu else values[:, 0].copy()


def write_array(map_fd: int, values: np.ndarray) -> None:
    """Write values[i] at key i for every i, in one batch update."""
    values = np.ascontiguousarray(values)
    keys = np.arange(len(values), dtype=np.uint32)
    attr = _BatchAttr(keys=keys.ctypes.data, values=values.ctypes.data,
                      count=len(values), map_fd=map_fd)
    _bpf(BPF_MAP_UPDATE_BATCH, attr, "BPF_MAP_UPDATE_BATCH")
    if attr.count != len(values):
        raise BpfError(errno.EIO, f"bpf(BPF_MAP_UPDATE_BATCH): wrote {attr.count} of "
                                  f"{len(values)} entries")

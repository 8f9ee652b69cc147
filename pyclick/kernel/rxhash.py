"""Counting buckets with the NIC's own RX hash (the ``bpf_xdp_metadata_rx_hash`` kfunc).

Since Linux 6.3 an XDP program bound to one device may ask its driver for
the RSS hash the NIC computed. This is the hash the NIC's indirection
table is indexed by, whatever fields and function the NIC uses, so counts
follow the NIC's buckets exactly. bcc cannot emit kfunc calls, so the
program here is assembled instruction by instruction and loaded with the
bpf() syscall as a device-bound program (BPF_F_XDP_DEV_BOUND_ONLY and the
interface's index); the kfunc is named by its BTF id in the kernel's own
type information (/sys/kernel/btf/vmlinux).

The program, in C terms::

    u32 hash, type, bucket;
    if (bpf_xdp_metadata_rx_hash(ctx, &hash, &type) == 0) {
        bucket = hash % RETA_SIZE;
        u64 *packets = bpf_map_lookup_elem(&count_map, &bucket);
        if (packets) *packets += 1;
    }
    return XDP_PASS;

Packets for which the driver has no hash are not counted.
"""

from __future__ import annotations

import functools
import os
import struct
from pathlib import Path

from pyclick.kernel import bpf_syscall

VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")
KFUNC = "bpf_xdp_metadata_rx_hash"

# BTF type kinds and the bytes each kind's record carries after its
# 12-byte header (per member for the kinds with a member count).
BTF_MAGIC = 0xEB9F
BTF_KIND_FUNC = 12
_FIXED_EXTRA = {1: 4, 3: 12, 14: 4, 17: 4}
_PER_MEMBER = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}

# Instruction encoding (linux/bpf.h, linux/bpf_common.h).
BPF_LD, BPF_LDX, BPF_ST, BPF_STX = 0x00, 0x01, 0x02, 0x03
BPF_ALU, BPF_JMP, BPF_ALU64 = 0x04, 0x05, 0x07
BPF_W, BPF_DW, BPF_IMM, BPF_MEM = 0x00, 0x18, 0x00, 0x60
BPF_K, BPF_X = 0x00, 0x08
BPF_ADD, BPF_MOD, BPF_MOV = 0x00, 0x90, 0xB0
BPF_JEQ, BPF_JNE, BPF_CALL, BPF_EXIT = 0x10, 0x50, 0x80, 0x90
BPF_PSEUDO_MAP_FD = 1
BPF_PSEUDO_KFUNC_CALL = 2
FUNC_MAP_LOOKUP_ELEM = 1
R0, R1, R2, R3, R6, R10 = 0, 1, 2, 3, 6, 10

BPF_MAP_TYPE_PERCPU_ARRAY = 6
BPF_F_XDP_DEV_BOUND_ONLY = 1 << 6
XDP_PASS = 2


class RxHashUnavailable(RuntimeError):
    """The kernel or the interface's driver cannot give XDP the NIC's hash."""


@functools.cache
def kfunc_btf_id(name: str = KFUNC, btf_path: Path = VMLINUX_BTF) -> int:
    """The BTF type id of the kernel function ``name``."""
    try:
        data = btf_path.read_bytes()
    except OSError as err:
        raise RxHashUnavailable(f"no kernel BTF ({btf_path}: {err.strerror}); the kernel "
                                f"needs CONFIG_DEBUG_INFO_BTF") from err
    magic, _, _, header, type_off, type_len, str_off, str_len = struct.unpack_from(
        "<HBBIIIII", data)
    if magic != BTF_MAGIC:
        raise RxHashUnavailable(f"{btf_path} is not BTF")
    strings = data[header + str_off: header + str_off + str_len]
    wanted = strings.find(b"\0" + name.encode() + b"\0") + 1
    if wanted <= 0:
        raise RxHashUnavailable(f"this kernel has no {name} (Linux 6.3 or later has it)")
    types = data[header + type_off: header + type_off + type_len]
    offset, type_id = 0, 1
    while offset < len(types):
        name_off, info, _ = struct.unpack_from("<III", types, offset)
        kind, members = (info >> 24) & 0x1F, info & 0xFFFF
        if kind == BTF_KIND_FUNC and name_off == wanted:
            return type_id
        offset += 12 + _FIXED_EXTRA.get(kind, 0) + _PER_MEMBER.get(kind, 0) * members
        type_id += 1
    raise RxHashUnavailable(f"this kernel has no {name} (Linux 6.3 or later has it)")


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def _load_map_fd(dst: int, map_fd: int) -> bytes:
    """The two-slot ld_imm64 that the kernel turns into the map's address."""
    return (_insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, map_fd)
            + _insn(0, 0, 0, 0, 0))


def count_program(map_fd: int, reta_size: int, kfunc_id: int) -> bytes:
    """Bytecode of the counting program described in the module docstring."""
    hash_slot, type_slot, key_slot = -4, -8, -12
    body = [
        _insn(BPF_ALU64 | BPF_MOV | BPF_X, R6, R1),
        _insn(BPF_ST | BPF_MEM | BPF_W, R10, 0, hash_slot, 0),
        _insn(BPF_ST | BPF_MEM | BPF_W, R10, 0, type_slot, 0),
        _insn(BPF_ALU64 | BPF_MOV | BPF_X, R2, R10),
        _insn(BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, hash_slot),
        _insn(BPF_ALU64 | BPF_MOV | BPF_X, R3, R10),
        _insn(BPF_ALU64 | BPF_ADD | BPF_K, R3, 0, 0, type_slot),
        _insn(BPF_ALU64 | BPF_MOV | BPF_X, R1, R6),
        _insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, kfunc_id),
    ]
    lookup = [
        _insn(BPF_LDX | BPF_MEM | BPF_W, R1, R10, hash_slot),
        _insn(BPF_ALU | BPF_MOD | BPF_K, R1, 0, 0, reta_size),
        _insn(BPF_STX | BPF_MEM | BPF_W, R10, R1, key_slot),
        _load_map_fd(R1, map_fd),
        _insn(BPF_ALU64 | BPF_MOV | BPF_X, R2, R10),
        _insn(BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, key_slot),
        _insn(BPF_JMP | BPF_CALL, 0, 0, 0, FUNC_MAP_LOOKUP_ELEM),
    ]
    increment = [
        _insn(BPF_LDX | BPF_MEM | BPF_DW, R1, R0, 0),
        _insn(BPF_ALU64 | BPF_ADD | BPF_K, R1, 0, 0, 1),
        _insn(BPF_STX | BPF_MEM | BPF_DW, R0, R1, 0),
    ]
    ret = [
        _insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, XDP_PASS),
        _insn(BPF_JMP | BPF_EXIT),
    ]
    slots = lambda parts: sum(len(p) // 8 for p in parts)  # noqa: E731
    # Jumps count instructions to skip; ld_imm64 takes two slots.
    skip_to_return_from_call = slots(lookup) + 1 + slots(increment)
    skip_to_return_from_lookup = slots(increment)
    code = (body
            + [_insn(BPF_JMP | BPF_JNE | BPF_K, R0, 0, skip_to_return_from_call, 0)]
            + lookup
            + [_insn(BPF_JMP | BPF_JEQ | BPF_K, R0, 0, skip_to_return_from_lookup, 0)]
            + increment + ret)
    return b"".join(code)


class RxHashCounter:
    """The device-bound counting program for one interface, with its count_map.

    ``xdp_fd`` is the loaded program (attach it in native mode to the same
    interface); ``map_fd("count_map")`` the per-CPU u64 array of
    ``reta_size`` buckets.
    """

    def __init__(self, ifindex: int, reta_size: int) -> None:
        if reta_size <= 0:
            raise ValueError(f"the table size must be positive, got {reta_size}")
        kfunc_id = kfunc_btf_id()
        self.reta_size = reta_size
        self._count_map_fd = bpf_syscall.map_create(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8,
                                                    reta_size, "count_map")
        code = count_program(self._count_map_fd, reta_size, kfunc_id)
        try:
            self.xdp_fd = bpf_syscall.prog_load(bpf_syscall.BPF_PROG_TYPE_XDP, code, "xdp_rx_hash",
                                                prog_flags=BPF_F_XDP_DEV_BOUND_ONLY,
                                                ifindex=ifindex)
        except bpf_syscall.BpfError as err:
            os.close(self._count_map_fd)
            raise RxHashUnavailable(f"the driver does not give XDP the RX hash: {err}") from err

    def map_names(self) -> list[str]:
        return ["count_map"]

    def map_fd(self, name: str) -> int:
        if name != "count_map":
            raise KeyError(f"the RX hash program has no map {name!r} (maps: count_map)")
        return self._count_map_fd

    def close(self) -> None:
        """Release the program and map (an attached program stays alive)."""
        os.close(self.xdp_fd)
        os.close(self._count_map_fd)

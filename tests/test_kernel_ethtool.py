"""ethtool RSS adapter: message bytes, struct layouts, and real kernel answers.

The kernel tests create a four-queue veth pair between network namespaces
of their own (root only; skipped with the reason elsewhere, failing under
CI=true) and check the errors both paths give. Only what a kernel or a
host can legitimately lack skips a test: a kernel without an ethtool
operation, a host without a C compiler or the uapi headers.
"""

from __future__ import annotations

import ctypes
import errno
import json
import multiprocessing
import os
import re
import shutil
import struct
import subprocess

import numpy as np
import pytest
from pyroute2.netlink.exceptions import NetlinkError

from pyclick.kernel import ethtool, netdev
from pyclick.kernel.ethtool import (
    EthtoolRSS,
    EthtoolRxfh,
    InterfaceMissing,
    IoctlRss,
    NetlinkRss,
    NoRssTable,
    PermissionDenied,
    ethtool_rss_msg,
    parse_rss_reply,
    rss_get_request,
    rss_set_request,
)
from pyclick.kernel.netdev import EthtoolIoctl, NetDevice
from pyclick.seams import RssDevice
from tests.netns import VETH, veth_pair

NLA_F_NESTED = 0x8000
needs_veth = pytest.mark.requires(*VETH)


# --- hand-built netlink bytes, following include/uapi/linux/netlink.h -------------

def nlattr(attr_type: int, payload: bytes) -> bytes:
    """struct nlattr {u16 nla_len; u16 nla_type;} + payload, padded to 4 bytes."""
    raw = struct.pack("=HH", 4 + len(payload), attr_type) + payload
    return raw + b"\0" * (-len(raw) % 4)


def genl_message(msg_type: int, flags: int, seq: int, pid: int, cmd: int, attrs: bytes) -> bytes:
    """struct nlmsghdr + struct genlmsghdr {u8 cmd; u8 version; u16 reserved} + attributes."""
    body = struct.pack("=BBH", cmd, 1, 0) + attrs
    return struct.pack("=IHHII", 16 + len(body), msg_type, flags, seq, pid) + body


def header_nest(ifname: str) -> bytes:
    return nlattr(1 | NLA_F_NESTED, nlattr(2, ifname.encode() + b"\0"))


def encoded(msg: ethtool_rss_msg, family: int, flags: int, seq: int, pid: int) -> bytes:
    msg["header"].update(type=family, flags=flags, sequence_number=seq, pid=pid)
    msg.encode()
    return bytes(msg.data)


def test_rss_get_request_bytes():
    expected = genl_message(0x15, 0x1, 7, 99, 38, header_nest("veth0"))
    assert encoded(rss_get_request("veth0"), 0x15, 0x1, 7, 99) == expected
    assert len(expected) == 36


def test_rss_set_request_carries_only_the_table_as_u32():
    table = np.array([0, 1, 2, 3, 3, 2, 1, 0], dtype=np.int64)
    indir = struct.pack("=8I", *table)
    expected = genl_message(0x15, 0x5, 1, 0, 48, header_nest("eth1") + nlattr(4, indir))
    assert encoded(rss_set_request("eth1", table), 0x15, 0x5, 1, 0) == expected


def test_hand_built_reply_parses_into_table_key_and_hash():
    rng = np.random.default_rng(7)
    table = rng.integers(0, 16, size=128)
    key = bytes(rng.integers(0, 256, size=40, dtype=np.uint8))
    flow_hash = nlattr(8 | NLA_F_NESTED, nlattr(5, struct.pack("=I", 0xF0)))
    attrs = (nlattr(1 | NLA_F_NESTED, nlattr(1, struct.pack("=I", 4)) + nlattr(2, b"eth1\0"))
             + nlattr(3, struct.pack("=I", 1))
             + nlattr(4, struct.pack(f"={table.size}I", *table))
             + nlattr(5, key)
             + nlattr(6, struct.pack("=I", 0))
             + flow_hash)
    reply = ethtool_rss_msg(genl_message(0x15, 0, 7, 0, 38, attrs))
    reply.decode()
    raw = parse_rss_reply(reply)
    np.testing.assert_array_equal(raw.table, table)
    assert raw.key == key
    assert ethtool.hash_function_name(raw.hfunc) == "toeplitz"


def test_reply_without_table_parses_empty():
    attrs = nlattr(1 | NLA_F_NESTED, nlattr(2, b"eth0\0")) + nlattr(3, struct.pack("=I", 1))
    reply = ethtool_rss_msg(genl_message(0x15, 0, 1, 0, 38, attrs))
    reply.decode()
    raw = parse_rss_reply(reply)
    assert raw.table.size == 0 and raw.key == b"" and raw.hfunc == 1


def test_hash_function_names():
    assert ethtool.hash_function_name(0) == ""
    assert ethtool.hash_function_name(0x4) == "crc32"
    assert ethtool.hash_function_name(0x3) == "toeplitz+xor"
    assert ethtool.hash_function_name(0x10) == "0x10"


# --- ioctl constants and layouts, checked against the C headers -------------------

LAYOUT_PROGRAM = r"""
#include <stdio.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/sockios.h>
#include <linux/ethtool.h>
int main(void) {
    printf("{\"SIOCETHTOOL\": %d, \"GRSSH\": %d, \"SRSSH\": %d, \"GDRVINFO\": %d,"
           " \"GRXRINGS\": %d, \"GCHANNELS\": %d,",
           SIOCETHTOOL, ETHTOOL_GRSSH, ETHTOOL_SRSSH, ETHTOOL_GDRVINFO,
           ETHTOOL_GRXRINGS, ETHTOOL_GCHANNELS);
    printf("\"rxfh\": [%zu, %zu, %zu, %zu, %zu, %zu],",
           sizeof(struct ethtool_rxfh), offsetof(struct ethtool_rxfh, indir_size),
           offsetof(struct ethtool_rxfh, key_size), offsetof(struct ethtool_rxfh, hfunc),
           offsetof(struct ethtool_rxfh, rsvd32), offsetof(struct ethtool_rxfh, rss_config));
    printf("\"drvinfo\": [%zu, %zu, %zu],", sizeof(struct ethtool_drvinfo),
           offsetof(struct ethtool_drvinfo, driver), offsetof(struct ethtool_drvinfo, n_priv_flags));
    printf("\"channels\": [%zu, %zu, %zu],", sizeof(struct ethtool_channels),
           offsetof(struct ethtool_channels, rx_count),
           offsetof(struct ethtool_channels, combined_count));
    printf("\"rxnfc\": [%zu, %zu],", sizeof(struct ethtool_rxnfc), offsetof(struct ethtool_rxnfc, data));
    printf("\"ifreq\": [%zu, %zu, %d]}", sizeof(struct ifreq), offsetof(struct ifreq, ifr_data),
           IFNAMSIZ);
    return 0;
}
"""


#: The headers LAYOUT_PROGRAM reads, and where Debian's packages put them.
LAYOUT_HEADERS = {"linux/ethtool.h": "linux-libc-dev", "linux/sockios.h": "linux-libc-dev",
                  "net/if.h": "libc6-dev", "stdio.h": "libc6-dev"}


def missing_headers(compiler: str) -> list[str]:
    """The headers of LAYOUT_HEADERS the compiler cannot find, with their package."""
    missing = []
    for header, package in LAYOUT_HEADERS.items():
        found = subprocess.run([compiler, "-E", "-x", "c", "-o", os.devnull, "-"],
                               input=f"#include <{header}>\n", capture_output=True, text=True)
        if found.returncode != 0:
            missing.append(f"<{header}> ({package})")
    return missing


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to read the uapi headers with (apt-get install gcc)")
    absent = missing_headers(compiler)
    if absent:
        pytest.skip(f"headers not installed: {', '.join(absent)}")
    # With the headers there, the program must build: any error is a failure.
    folder = tmp_path_factory.mktemp("layout")
    source, binary = folder / "layout.c", folder / "layout"
    source.write_text(LAYOUT_PROGRAM)
    build = subprocess.run([compiler, "-o", str(binary), str(source)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    return json.loads(subprocess.run([str(binary)], capture_output=True, text=True,
                                     check=True).stdout)


def test_ioctl_numbers_match_the_headers(c_layout):
    assert c_layout["SIOCETHTOOL"] == netdev.SIOCETHTOOL
    assert c_layout["GRSSH"] == ethtool.ETHTOOL_GRSSH
    assert c_layout["SRSSH"] == ethtool.ETHTOOL_SRSSH
    assert c_layout["GDRVINFO"] == netdev.ETHTOOL_GDRVINFO
    assert c_layout["GRXRINGS"] == netdev.ETHTOOL_GRXRINGS
    assert c_layout["GCHANNELS"] == netdev.ETHTOOL_GCHANNELS


def test_struct_layouts_match_the_headers(c_layout):
    def offset(cls, name):
        return getattr(cls, name).offset

    assert c_layout["rxfh"] == [ctypes.sizeof(EthtoolRxfh), offset(EthtoolRxfh, "indir_size"),
                                offset(EthtoolRxfh, "key_size"), offset(EthtoolRxfh, "hfunc"),
                                offset(EthtoolRxfh, "rsvd32"), ctypes.sizeof(EthtoolRxfh)]
    drv = netdev.EthtoolDrvinfo
    assert c_layout["drvinfo"] == [ctypes.sizeof(drv), offset(drv, "driver"),
                                   offset(drv, "n_priv_flags")]
    chan = netdev.EthtoolChannels
    assert c_layout["channels"] == [ctypes.sizeof(chan), offset(chan, "rx_count"),
                                    offset(chan, "combined_count")]
    assert c_layout["rxnfc"] == [ctypes.sizeof(netdev.EthtoolRxnfc),
                                 offset(netdev.EthtoolRxnfc, "data")]
    assert c_layout["ifreq"] == [ctypes.sizeof(netdev.IfReq), offset(netdev.IfReq, "ifr_data"),
                                 netdev.IFNAMSIZ]


# --- netlink ids, checked against the running kernel's own policy ----------------

NL_ATTR_TYPE_U32, NL_ATTR_TYPE_BINARY, NL_ATTR_TYPE_NESTED = 4, 10, 13


def kernel_attribute_types(op: int) -> dict[int, int]:
    """Attribute id -> NL_ATTR_TYPE_* the running kernel accepts for an ethtool op."""
    from pyroute2.netlink.generic import GenericNetlinkSocket

    def number(name: str) -> int:
        return int(re.search(r"\((\d+)\)", name).group(1))

    sock = GenericNetlinkSocket()
    try:
        sock.bind("ethtool", ethtool_rss_msg)
        dump = sock.policy("ethtool")
    finally:
        sock.close()
    policy_of_op, types = None, {}
    for msg in dump:
        op_policy = msg.get_attr("CTRL_ATTR_OP_POLICY")
        if op_policy:
            for name, value, *_ in op_policy["attrs"]:
                if number(name) == op:
                    policy_of_op = value.get_attr("CTRL_ATTR_POLICY_DO")
    for msg in dump:
        policy = msg.get_attr("CTRL_ATTR_POLICY")
        for name, value, *_ in (policy["attrs"] if policy else ()):
            if number(name) == policy_of_op:
                for attr_name, attr, *_ in value["attrs"]:
                    types[number(attr_name)] = attr.get_attr("NL_POLICY_TYPE_ATTR_TYPE")
    return types


@pytest.fixture(scope="module")
def family_operations():
    try:
        netlink = NetlinkRss()
    except NetlinkError as err:
        # ENOENT is the kernel's answer for a family it does not have
        # (before Linux 5.6, or without CONFIG_ETHTOOL_NETLINK); any other
        # error is a failure.
        if err.code != errno.ENOENT:
            raise
        pytest.skip(f"the kernel has no ethtool netlink family: {err}")
    netlink.close()
    return netlink.operations


def test_rss_get_attributes_match_the_kernel(family_operations):
    if ethtool.ETHTOOL_MSG_RSS_GET not in family_operations:
        pytest.skip("kernel older than 6.3: no RSS_GET")
    types = kernel_attribute_types(ethtool.ETHTOOL_MSG_RSS_GET)
    assert types[ethtool.ETHTOOL_A_RSS_HEADER] == NL_ATTR_TYPE_NESTED
    assert types[ethtool.ETHTOOL_A_RSS_CONTEXT] == NL_ATTR_TYPE_U32


def test_rss_set_attributes_match_the_kernel(family_operations):
    if ethtool.ETHTOOL_MSG_RSS_SET not in family_operations:
        pytest.skip("kernel older than 6.17: no RSS_SET")
    types = kernel_attribute_types(ethtool.ETHTOOL_MSG_RSS_SET)
    assert types[ethtool.ETHTOOL_A_RSS_HEADER] == NL_ATTR_TYPE_NESTED
    assert types[ethtool.ETHTOOL_A_RSS_HFUNC] == NL_ATTR_TYPE_U32
    assert types[ethtool.ETHTOOL_A_RSS_INDIR] == NL_ATTR_TYPE_BINARY
    assert types[ethtool.ETHTOOL_A_RSS_HKEY] == NL_ATTR_TYPE_BINARY


# --- real calls on a veth in a namespace of our own -----------------------------------

@pytest.fixture(scope="module")
def veth():
    with veth_pair(queues=4) as pair:
        yield pair


@pytest.fixture(scope="module")
def veth_netns(veth):
    return veth.recv_ns


@pytest.fixture(scope="module")
def va(veth):
    return veth.recv_if


@needs_veth
def test_veth_facts(veth_netns, va):
    dev = NetDevice(va, veth_netns)
    assert dev.exists()
    assert dev.driver() == "veth"
    assert dev.rx_queue_count() == 4
    assert not NetDevice("nosuchif0", veth_netns).exists()


@needs_veth
@pytest.mark.parametrize("transport", ["netlink", "ioctl"])
def test_veth_read_names_the_driver(veth_netns, va, transport):
    with EthtoolRSS(va, transport=transport, netns=veth_netns) as rss:
        assert rss.transports == (transport, transport)
        with pytest.raises(NoRssTable) as caught:
            rss.read()
    assert caught.value.driver == "veth"
    assert "'veth'" in str(caught.value) and f"'{va}'" in str(caught.value)


@needs_veth
@pytest.mark.parametrize("transport_class", [NetlinkRss, IoctlRss])
def test_veth_write_names_the_driver(veth_netns, va, transport_class):
    transport = transport_class(veth_netns)
    try:
        with pytest.raises(NoRssTable, match="'veth'"):
            transport.set_table(va, np.zeros(4, dtype=np.int64))
    finally:
        transport.close()


@needs_veth
@pytest.mark.parametrize("transport", ["netlink", "ioctl"])
def test_missing_interface(veth_netns, transport):
    with EthtoolRSS("nosuchif0", transport=transport, netns=veth_netns) as rss:
        with pytest.raises(InterfaceMissing, match="'nosuchif0' does not exist"):
            rss.read()


@needs_veth
@pytest.mark.parametrize("transport", ["netlink", "ioctl"])
def test_loopback_has_no_table(veth_netns, transport):
    with EthtoolRSS("lo", transport=transport, netns=veth_netns) as rss:
        with pytest.raises(NoRssTable) as caught:
            rss.read_table()
    assert caught.value.driver == "loopback"


def test_impossible_names_are_missing_interfaces():
    with pytest.raises(InterfaceMissing):
        NetDevice("a-name-longer-than-ifnamsiz")
    with pytest.raises(InterfaceMissing):
        NetDevice("")


def test_cap_net_admin_is_read_from_the_effective_set(tmp_path):
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nCapInh:\t0000000000000000\nCapEff:\t0000000000001000\n")
    assert netdev.has_net_admin(str(status))
    status.write_text("Name:\tpython\nCapEff:\t0000000000000fff\nCapBnd:\t000001ffffffffff\n")
    assert not netdev.has_net_admin(str(status))


def test_unknown_transport_is_refused():
    with pytest.raises(ValueError, match="transport must be one of"):
        EthtoolRSS("lo", transport="carrier-pigeon")


def _write_as_nobody(netns: str, ifname: str, results) -> None:
    """Child process: open both paths as root, drop to nobody, then try to write."""
    netlink = NetlinkRss(netns)
    ioctl = EthtoolIoctl(netns)
    # indir_size 0 asks for the default table; the capability check comes first
    head = EthtoolRxfh(cmd=ethtool.ETHTOOL_SRSSH, indir_size=0)
    os.setgid(65534)
    os.setuid(65534)
    try:
        netlink.set_table(ifname, np.zeros(4, dtype=np.int64))
        results.put("netlink: no error")
    except PermissionDenied as err:
        results.put(f"netlink: {type(err).__name__}: {err}")
    try:
        ioctl.request(ifname, head)
        results.put("ioctl: no error")
    except OSError as err:
        try:
            netdev.raise_for_errno(err.errno, ifname, "change the RSS table")
            results.put(f"ioctl: {errno.errorcode.get(err.errno)}")
        except PermissionDenied as denied:
            results.put(f"ioctl: {type(denied).__name__}: {denied}")


@needs_veth
def test_writing_without_cap_net_admin_is_permission_denied(veth_netns, va):
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_write_as_nobody, args=(veth_netns, va, results))
    child.start()
    answers = [results.get(timeout=60), results.get(timeout=60)]
    child.join(timeout=60)
    for path, answer in zip(("netlink", "ioctl"), answers):
        assert answer.startswith(f"{path}: PermissionDenied"), answer
        assert "CAP_NET_ADMIN" in answer


@needs_veth
def test_writing_a_table_to_a_device_without_one(veth_netns, va):
    with EthtoolRSS(va, netns=veth_netns) as rss:
        with pytest.raises(NoRssTable, match="'veth'"):
            rss.write_table(np.zeros(128, dtype=np.int64))


def test_ethtool_rss_is_an_rss_device():
    assert issubclass(EthtoolRSS, RssDevice)

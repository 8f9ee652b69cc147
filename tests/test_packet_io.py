"""Real packet I/O: ToDevice and PollDevice on a veth pair, the TPACKET_V3
ring, FromHost/ToHost/KernelTun on TUN/TAP devices, and their argument
errors.

The kernel tests run as root in network namespaces they create and remove
(tests/netns.py); elsewhere they skip with the reason, or fail under CI=true.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import subprocess
import threading
import time
import uuid
from typing import Callable, Iterator

import pytest

from pyclick.elements.kerneltun import is_ipv4
from pyclick.errors import ConfigError
from pyclick.kernel.ring import ReceiveRing, SendSocket
from pyclick.kernel.tap import TUN_DEVICE
from pyclick.lang import flatten
from pyclick.router import Router
from tests.netns import VETH, in_ci, in_netns, inside, ip, mac_address, veth_pair

needs_veth = pytest.mark.requires(*VETH)
#: Longest any kernel test waits for its frames.
DEADLINE = 10.0


def frame(dst: bytes, number: int, size: int = 60) -> bytes:
    """An Ethernet frame of an experimental EtherType carrying ``number``."""
    head = dst + bytes.fromhex("020000000001") + b"\x88\xb5" + number.to_bytes(4, "big")
    return head + bytes(size - len(head))


def wait_until(condition: Callable[[], bool], timeout: float = DEADLINE) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class Running:
    """A router running on a background thread, inside namespace ``ns``."""

    def __init__(self, config: str, ns: str | None = None) -> None:
        self.router = Router(flatten(config, filename="io.click"))
        self.router.configure()
        self.error: BaseException | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ns,), daemon=True)

    def _run(self, ns: str | None) -> None:
        try:
            with inside(ns) if ns else contextlib.nullcontext():
                self.router.run(handle_signals=False, before_cleanup=self._started.set)
        except BaseException as err:  # reported by the test thread
            self.error = err
        finally:
            self._started.set()

    def read(self, handler: str) -> str:
        return self.router.handlers.read(handler)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.router.stop("test over")
        self._thread.join(DEADLINE)
        assert not self._thread.is_alive(), "the router did not stop"
        if self.error is not None:
            raise self.error


@contextlib.contextmanager
def running(config: str, ns: str | None = None) -> Iterator[Running]:
    router = Running(config, ns)
    router.start()
    try:
        yield router
    finally:
        router.stop()


# --- the ring alone ----------------------------------------------------------------------

@needs_veth
def test_ring_receives_every_frame_in_order_with_its_length():
    with veth_pair() as pair:
        with inside(pair.recv_ns):
            ring = ReceiveRing(pair.recv_if, blocks=4)
        with inside(pair.send_ns):
            sender = SendSocket(pair.send_if)
        try:
            dst = bytes.fromhex(mac_address(pair.recv_ns, pair.recv_if).replace(":", ""))
            # 300 frames of 1000 bytes, 50 at a time: about 60 fit in a 64 KiB
            # block, so the reads go round the 4-block ring more than once.
            sent = [frame(dst, i, 1000) for i in range(300)]
            got = []
            end = time.monotonic() + DEADLINE
            for start in range(0, 300, 50):
                assert all(sender.send(f) for f in sent[start:start + 50])
                while len(got) < start + 50 and time.monotonic() < end:
                    if ring.wait(0.1):
                        got.extend(ring.receive(64))
            assert [f.data for f in got] == sent
            assert {f.wire_length for f in got} == {1000}
            assert {f.packet_type for f in got} == {0}          # PACKET_HOST
            assert ring.statistics() == (300, 0)
            assert ring.receive(64) == []
        finally:
            ring.close()
            sender.close()


def test_ring_refuses_a_block_size_that_is_not_whole_pages():
    with pytest.raises(ValueError, match="multiple of the page size"):
        ReceiveRing("lo", block_size=5000)


# --- ToDevice -> PollDevice on a veth pair -----------------------------------------------

@needs_veth
@pytest.mark.parametrize("count,burst", [(1, 1), (1000, 8)])
def test_todevice_sends_n_frames_polldevice_receives_exactly_n(count, burst):
    with veth_pair() as pair:
        dst = mac_address(pair.recv_ns, pair.recv_if).replace(":", "")
        data = frame(bytes.fromhex(dst), 7).hex()
        with running(f"pd :: PollDevice({pair.recv_if}, BURST 32) -> c :: Counter -> Discard",
                     pair.recv_ns) as receiver:
            assert wait_until(lambda: receiver.router.scheduler is not None)
            time.sleep(0.2)
            with running(f"InfiniteSource(\\<{data}>, LIMIT {count}, BURST 16) -> q :: Queue(2000) "
                         f"-> td :: ToDevice({pair.send_if}, BURST {burst})",
                         pair.send_ns) as sender:
                assert wait_until(lambda: receiver.read("c.count") == str(count))
                assert sender.read("td.count") == str(count)
                assert sender.read("td.pulls") == str(count)
                assert sender.read("td.drops") == "0"
            time.sleep(0.2)
            # Exactly N: nothing else arrived in the meantime.
            assert receiver.read("c.count") == str(count)
            assert receiver.read("pd.count") == str(count)
            assert receiver.read("pd.drops") == "0"


@needs_veth
def test_todevice_pushes_refused_frames_out_of_output_1():
    with veth_pair() as pair:
        # 2000 bytes exceed the veth's MTU of 1500: the kernel refuses them.
        big = frame(bytes(6), 1, 2000).hex()
        with running(f"InfiniteSource(\\<{big}>, LIMIT 3) -> Queue -> td :: ToDevice({pair.send_if}) "
                     f"; td[0] -> ok :: Counter -> Discard; td[1] -> bad :: Counter -> Discard",
                     pair.send_ns) as sender:
            assert wait_until(lambda: sender.read("bad.count") == "3")
            assert (sender.read("td.count"), sender.read("td.drops"), sender.read("ok.count")) \
                == ("0", "3", "0")


@needs_veth
def test_polldevice_does_not_see_what_todevice_sends_on_its_interface():
    with veth_pair() as pair:
        with inside(pair.recv_ns):
            ring = ReceiveRing(pair.recv_if)
        data = frame(bytes(6), 3).hex()
        try:
            with running(f"pd :: PollDevice({pair.send_if}) -> c :: Counter -> Discard; "
                         f"InfiniteSource(\\<{data}>, LIMIT 5) -> Queue -> td :: ToDevice("
                         f"{pair.send_if})", pair.send_ns) as router:
                got = []
                end = time.monotonic() + DEADLINE
                while len(got) < 5 and time.monotonic() < end:
                    if ring.wait(0.1):
                        got.extend(ring.receive(8))
                assert len(got) == 5                    # they did go out
                time.sleep(0.2)
                assert (router.read("td.count"), router.read("c.count")) == ("5", "0")
        finally:
            ring.close()


def promiscuity(ns: str, ifname: str) -> int:
    return json.loads(ip("-n", ns, "-d", "-j", "link", "show", "dev", ifname))[0]["promiscuity"]


@needs_veth
@pytest.mark.parametrize("promisc,while_running", [("false", 0), ("true", 1)])
def test_polldevice_makes_the_interface_promiscuous_only_when_asked(promisc, while_running):
    with veth_pair() as pair:
        dst = bytes.fromhex(mac_address(pair.recv_ns, pair.recv_if).replace(":", ""))
        with inside(pair.send_ns):
            sender = SendSocket(pair.send_if)
        with running(f"pd :: PollDevice({pair.recv_if}, PROMISC {promisc}) -> Discard",
                     pair.recv_ns) as receiver:
            # Running once a frame comes through.
            assert wait_until(lambda: sender.send(frame(dst, 1))
                              and wait_until(lambda: receiver.read("pd.count") != "0", 0.1))
            assert promiscuity(pair.recv_ns, pair.recv_if) == while_running
        sender.close()
        assert promiscuity(pair.recv_ns, pair.recv_if) == 0


# --- argument errors ---------------------------------------------------------------------

def configure_error(config: str, **options: bool) -> str:
    with pytest.raises(ConfigError) as caught:
        Router(flatten(config, filename="io.click"), **options).configure()
    return str(caught.value)


POLL = "io.click:1: While configuring 'PollDevice@1 :: PollDevice': "
TO = "io.click:1: While configuring 'ToDevice@2 :: ToDevice': "
BURST_RANGE = "BURST: must be at least 1 and at most 1048576, got '0'"


@pytest.mark.parametrize("config,message", [
    ("PollDevice -> Discard", POLL + "DEVNAME: missing mandatory argument"),
    ("PollDevice(eth0, BURST 0) -> Discard", POLL + BURST_RANGE),
    ("PollDevice(eth0, PROMISC maybe) -> Discard",
     POLL + "PROMISC: expected boolean (true/false, yes/no, 1/0), got 'maybe'"),
    ("PollDevice(eth0, SNAPLEN 9) -> Discard",
     POLL + "SNAPLEN: unknown keyword (known: DEVNAME, PROMISC, BURST, TIMESTAMP, HEADROOM)"),
    ("Idle -> ToDevice", TO + "DEVNAME: missing mandatory argument"),
    ("Idle -> ToDevice(eth0, BURST 0)", TO + BURST_RANGE),
    ("Idle -> ToDevice(eth0, BURST -1)", TO + "BURST: expected unsigned integer, got '-1'"),
])
def test_argument_errors(config, message):
    assert configure_error(config) == message


@pytest.mark.parametrize("config,prefix", [("PollDevice(eth0) -> Discard", POLL),
                                           ("Idle -> ToDevice(eth0)", TO)])
def test_device_elements_refuse_simulated_time(config, prefix):
    assert configure_error(config, simtime=True) == prefix + (
        "a device's packets arrive in real time; this configuration runs in simulated time")


def test_todevice_input_is_pull():
    assert configure_error("PollDevice(eth0) -> ToDevice(eth1)") == (
        "io.click:1: 'PollDevice@1 :: PollDevice' push output 0 connected to "
        "'ToDevice@2 :: ToDevice' pull input 0")


@pytest.mark.requires("root")
def test_configure_touches_no_interface():
    router = Router(flatten("PollDevice(nosuchif0) -> Discard; Idle -> ToDevice(nosuchif1)",
                            filename="io.click"))
    router.configure()          # no error: the interfaces are looked at by initialize
    # ToDevice's configure phase is Click's, before the default phase of PollDevice.
    with pytest.raises(ConfigError, match="io.click:1: While initializing 'ToDevice@4 :: "
                                          "ToDevice': interface 'nosuchif1' does not exist"):
        router.initialize()


# --- TAP and TUN: FromHost, ToHost, KernelTun --------------------------------------------

needs_namespace = pytest.mark.requires("root", "netns", "ip", "sysctl")


@contextlib.contextmanager
def namespace() -> Iterator[str]:
    """A fresh network namespace without IPv6 (so nothing but the test's
    packets crosses its devices); deleted however the test ends."""
    if not os.path.exists(TUN_DEVICE):
        reason = f"{TUN_DEVICE} is missing (the kernel has no tun module)"
        if in_ci():
            pytest.fail(f"CI=true and a prerequisite is missing: {reason}", pytrace=False)
        pytest.skip(reason)
    name = f"pyck-tap-{uuid.uuid4().hex[:12]}"
    ip("netns", "add", name)
    try:
        for conf in ("all", "default"):
            subprocess.run(in_netns(name, "sysctl", "-q", "-w",
                                    f"net.ipv6.conf.{conf}.disable_ipv6=1"), check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)



def checksum(header: bytes) -> int:
    total = sum(int.from_bytes(header[i:i + 2], "big") for i in range(0, len(header), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_datagram(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """An IPv4 UDP packet (UDP checksum 0: none, as IPv4 allows)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    header = header[:10] + checksum(header).to_bytes(2, "big") + header[12:]
    return header + udp


def udp_socket(ns: str, port: int) -> socket.socket:
    with inside(ns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", port))
    sock.settimeout(DEADLINE)
    return sock


TAP_MAC = "02:00:00:00:00:01"
PEER_MAC = "02:00:00:00:00:02"


@needs_namespace
@pytest.mark.parametrize("tohost", ["ToHost(pyt0)", "ToHost"], ids=["devname", "only-fromhost"])
def test_fromhost_tohost_round_trip(tohost):
    with namespace() as ns:
        listener = udp_socket(ns, 5555)
        to_kernel = (bytes.fromhex(TAP_MAC.replace(":", "")) + bytes.fromhex(
            PEER_MAC.replace(":", "")) + b"\x08\x00"
            + udp_datagram("10.9.0.2", "10.9.0.1", 7777, 5555, b"to the kernel"))
        config = (f"fh :: FromHost(pyt0, 10.9.0.1/24, ETHER {TAP_MAC}) -> c :: Counter "
                  f"-> Discard; InfiniteSource(\\<{to_kernel.hex()}>, LIMIT 3) "
                  f"-> th :: {tohost}")
        try:
            with running(config, ns) as router:
                # Kernel to router: UDP to a neighbour behind the device.
                assert wait_until(lambda: router.read("th.count") == "3")
                ip("-n", ns, "neigh", "replace", "10.9.0.2", "lladdr", PEER_MAC, "dev", "pyt0")
                with inside(ns):
                    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                with sender:
                    for _ in range(4):
                        sender.sendto(b"to the router", ("10.9.0.2", 9))
                assert wait_until(lambda: router.read("c.count") == "4")
                assert router.read("fh.dev_name") == "pyt0"
                assert router.read("th.drops") == "0"
                # Router to kernel: the three datagrams ToHost wrote.
                got = [listener.recvfrom(100) for _ in range(3)]
                assert got == [(b"to the kernel", ("10.9.0.2", 7777))] * 3
            # The device went with the router.
            assert "pyt0" not in ip("-n", ns, "-o", "link", "show")
        finally:
            listener.close()


@needs_namespace
@pytest.mark.parametrize("into_tun", ["-> Queue -> tun", "-> tun"], ids=["pull", "push"])
def test_kerneltun_carries_ip_both_ways(into_tun):
    with namespace() as ns:
        listener = udp_socket(ns, 5556)
        to_kernel = udp_datagram("10.8.0.2", "10.8.0.1", 7778, 5556, b"through tun")
        config = (f"tun :: KernelTun(10.8.0.1/24, DEVNAME pyk0) -> c :: Counter -> Discard; "
                  f"InfiniteSource(\\<{to_kernel.hex()}>, LIMIT 2) {into_tun}")
        try:
            with running(config, ns) as router:
                assert listener.recvfrom(100) == (b"through tun", ("10.8.0.2", 7778))
                assert listener.recvfrom(100) == (b"through tun", ("10.8.0.2", 7778))
                with inside(ns):
                    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                with sender:
                    for _ in range(5):
                        sender.sendto(b"x", ("10.8.0.7", 9))
                assert wait_until(lambda: router.read("c.count") == "5")
                assert (router.read("tun.dev_name"), router.read("tun.drops")) == ("pyk0", "0")
        finally:
            listener.close()


@needs_namespace
@pytest.mark.parametrize("config", [
    "tun :: KernelTun(10.6.0.1/24, 10.6.0.2, DEVNAME pyk2) -> Discard",
    "tun :: FromHost(pyk2, 10.6.0.1/24, GATEWAY 10.6.0.2) -> Discard",
], ids=["kerneltun", "fromhost"])
def test_a_gateway_routes_everything_else_through_the_device(config):
    with namespace() as ns:
        assert ip("-n", ns, "route", "show", "default").strip() == ""
        with running(config, ns):
            assert wait_until(lambda: "pyk2" in ip("-n", ns, "route", "show", "default"))
            assert ip("-n", ns, "route", "show", "default").split()[:5] == [
                "default", "via", "10.6.0.2", "dev", "pyk2"]
        # Gone with the device.
        assert ip("-n", ns, "route", "show", "default").strip() == ""
        assert "pyk2" not in ip("-n", ns, "-o", "link", "show")


@needs_namespace
@needs_veth
def test_a_gateway_beside_a_default_route_fails_and_leaves_the_host_as_it_was():
    with namespace() as ns:
        ip("-n", ns, "link", "add", "pyd0", "type", "veth", "peer", "name", "pyd1")
        ip("-n", ns, "addr", "add", "10.5.0.1/24", "dev", "pyd0")
        ip("-n", ns, "link", "set", "pyd0", "up")
        ip("-n", ns, "route", "add", "default", "via", "10.5.0.2")
        before = ip("-n", ns, "route", "show")
        router = Running("KernelTun(10.6.0.1/24, 10.6.0.2, DEVNAME pyk3) -> Discard", ns)
        router.start()
        with pytest.raises(ConfigError) as failed:
            router.stop()
        assert str(failed.value) == (
            "io.click:1: While initializing 'KernelTun@1 :: KernelTun': cannot add a "
            "default route through 10.6.0.2 on pyk3: the host has a default route already")
        assert ip("-n", ns, "route", "show") == before
        assert "pyk3" not in ip("-n", ns, "-o", "link", "show")


def test_a_gateway_outside_the_device_network_is_refused():
    assert configure_error("KernelTun(10.0.0.1/24, 10.0.1.2) -> Discard") == (
        TUN + "GATEWAY: 10.0.1.2 is not in the device's network 10.0.0.0/24")
    assert configure_error("FromHost(f0, 10.0.0.1/24, GATEWAY 10.0.1.2) -> Discard") == (
        HOST + "GATEWAY: 10.0.1.2 is not in the device's network 10.0.0.0/24")


def test_is_ipv4():
    packet = udp_datagram("10.0.0.1", "10.0.0.2", 1, 2, b"ab")
    assert is_ipv4(packet)
    assert not is_ipv4(packet[:19])                       # shorter than a header
    assert not is_ipv4(b"\x60" + packet[1:])              # IPv6 version
    assert not is_ipv4(packet[:25])                       # total length 30 > 25 bytes


HOST = "io.click:1: While configuring 'FromHost@1 :: FromHost': "
TUN = "io.click:1: While configuring 'KernelTun@1 :: KernelTun': "


@pytest.mark.parametrize("config,message", [
    ("FromHost -> Discard", HOST + "DEVNAME: missing mandatory argument"),
    ("FromHost(fake0, 10.0.0.300/24) -> Discard",
     HOST + "DST: expected IP address with prefix (e.g. 10.0.0.1/24), got '10.0.0.300/24'"),
    ("FromHost(fake0, MTU 10) -> Discard",
     HOST + "MTU: must be at least 68 and at most 65535, got '10'"),
    ("KernelTun -> Discard", TUN + "ADDR: missing mandatory argument"),
    ("KernelTun(10.0.0.1/24, BURST 0) -> Discard",
     TUN + "BURST: must be at least 1 and at most 1048576, got '0'"),
])
def test_tap_argument_errors(config, message):
    assert configure_error(config) == message


def test_tohost_without_devname_refuses_several_fromhosts():
    error = configure_error("a :: FromHost(f0) -> Discard; b :: FromHost(f1) -> Discard; "
                            "Idle -> ToHost")
    assert error.startswith("io.click:1: While configuring 'ToHost@")
    assert error.endswith(" :: ToHost': no DEVNAME, and 2 FromHost elements ('a', 'b'): give "
                          "the DEVNAME of the one ToHost writes through")


def test_kerneltun_reads_click_s_older_dev_name():
    router = Router(flatten("t :: KernelTun(10.0.0.1/24, DEV_NAME pyk4) -> Discard",
                            filename="io.click"))
    router.configure()
    assert router.element("t").devname == "pyk4"


@pytest.mark.parametrize("config", ["Idle -> ToHost", "Idle -> ToHost(fake0)"])
def test_tohost_alone_configures_without_a_fromhost(config):
    router = Router(flatten(config, filename="io.click"))
    router.configure()
    assert router.element("ToHost@2").devname == ("fake0" if "fake0" in config else "")


@needs_namespace
@pytest.mark.parametrize("tohost, prefix", [("ToHost(pyt9)", "pyt9"), ("ToHost", "tohost")],
                         ids=["devname", "own-name"])
def test_tohost_alone_makes_its_own_tap_device(tohost, prefix):
    frame = (bytes.fromhex(TAP_MAC.replace(":", "")) + bytes.fromhex(PEER_MAC.replace(":", ""))
             + b"\x08\x00" + udp_datagram("10.9.0.2", "10.9.0.1", 7777, 5555, b"alone"))
    config = f"InfiniteSource(\\<{frame.hex()}>, LIMIT 3) -> th :: {tohost}"
    with namespace() as ns:
        with running(config, ns) as router:
            assert wait_until(lambda: router.read("th.count") == "3")
            name = router.read("th.dev_name")
            assert name.startswith(prefix)
            # The kernel received the three frames on the device ToHost made.
            [link] = json.loads(ip("-n", ns, "-s", "-j", "link", "show", "dev", name))
            assert link["stats64"]["rx"]["packets"] == 3
        assert name not in ip("-n", ns, "-o", "link", "show")


# --- ToHostSniffers: a dummy interface shows frames to packet sockets only --------------

SNIFF = "io.click:1: While initializing 'ToHostSniffers@2 :: ToHostSniffers': "


def link_stats(ns: str, ifname: str) -> dict[str, dict[str, int]]:
    """The kernel's counters of ``ifname``: ``{"rx": {"packets": ...}, "tx": {...}}``."""
    return json.loads(ip("-n", ns, "-s", "-j", "link", "show", "dev", ifname))[0]["stats64"]


def link_exists(ns: str, ifname: str) -> bool:
    return subprocess.run(["ip", "-n", ns, "link", "show", "dev", ifname],
                          capture_output=True).returncode == 0


def host_links() -> set[str]:
    """The names of the interfaces of the first namespace."""
    return {link["ifname"] for link in json.loads(ip("-j", "link", "show"))}


@needs_namespace
def test_tohostsniffers_shows_frames_to_sniffers_only_and_deletes_its_interface():
    from pyclick.kernel.ownership import state_dir
    from pyclick.packet import Packet

    host = host_links()
    with namespace() as ns, inside(ns):
        router = Router(flatten("Idle -> ToHostSniffers(sniff0)", filename="io.click"))
        router.configure()
        router.initialize()
        try:
            sniffer = ReceiveRing("sniff0", outbound=True, retire_ms=1)
            kind = json.loads(ip("-n", ns, "-d", "-j", "link", "show", "dev",
                                 "sniff0"))[0]["linkinfo"]["info_kind"]
            assert kind in ("dummy", "ifb")
            record = json.loads((state_dir() / f"sniff0@{ns}.json").read_text())
            assert record["created"] is True
            before = link_stats(ns, "sniff0")
            frames = [frame(b"\xff" * 6, n) for n in range(5)]
            router.element("ToHostSniffers@2").push(0, [Packet(f) for f in frames])
            got: list = []
            wait_until(lambda: got.extend(sniffer.receive(10)) or len(got) >= 5)
            sniffer.close()
            assert [f.data for f in got] == frames
            assert {f.packet_type for f in got} == {4}      # PACKET_OUTGOING
            assert router.handlers.read("ToHostSniffers@2.count") == "5"
            # The driver dropped the frames: dummy counts them as sent, ifb as
            # dropped on arrival (what tc did not redirect to it).
            after = link_stats(ns, "sniff0")
            counted = ("tx", "packets") if kind == "dummy" else ("rx", "dropped")
            assert after[counted[0]][counted[1]] - before[counted[0]][counted[1]] == 5
        finally:
            router.cleanup()
        assert not link_exists(ns, "sniff0")
        assert not (state_dir() / f"sniff0@{ns}.json").exists()
        assert router.exit_guard.pending() == []
    # Not even the interfaces a driver loading for it could make (ifb0, ifb1).
    assert host_links() == host


def test_ifb_driver_is_loaded_without_interfaces_of_its_own(tmp_path, monkeypatch):
    from pyclick.kernel import dummy

    ran: list[list[str]] = []
    monkeypatch.setattr(dummy, "SYS_MODULE", tmp_path)
    monkeypatch.setattr(dummy.subprocess, "run", lambda command, **_: ran.append(command))
    dummy.load_ifb_bare()
    assert [command[1:] for command in ran] == [["ifb", "numifbs=0"]]
    (tmp_path / "ifb").mkdir()  # loaded already, or built in
    dummy.load_ifb_bare()
    assert len(ran) == 1


@needs_namespace
def test_tohostsniffers_refuses_an_interface_that_is_not_a_dummy():
    with namespace() as ns, inside(ns):
        router = Router(flatten("Idle -> ToHostSniffers(lo)", filename="io.click"))
        router.configure()
        with pytest.raises(ConfigError) as caught:
            router.initialize()
    assert str(caught.value) == SNIFF + (
        "'lo' is a network interface, not a dummy one: packets sent on it would leave on a "
        "wire; name a dummy interface, or a free name for ToHostSniffers to create one")


@needs_namespace
@pytest.mark.requires("pyclick-command")
def test_tohostsniffers_interface_is_deleted_after_sigkill(tmp_path):
    import signal

    from tests.netns import pyclick_command

    env = {**os.environ, "PYCLICK_STATE_DIR": str(tmp_path)}
    with namespace() as ns:
        run = subprocess.Popen(in_netns(ns, pyclick_command(), "-e",
                                        "Idle -> ToHostSniffers(sniff1)"),
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            assert wait_until(lambda: (tmp_path / f"sniff1@{ns}.json").exists()), \
                run.stderr.read1().decode() if run.poll() is not None else "not started"
        finally:
            run.send_signal(signal.SIGKILL)
            run.wait(timeout=30)
        assert link_exists(ns, "sniff1")
        cleanup = subprocess.run(in_netns(ns, pyclick_command(), "--cleanup", "sniff1"),
                                 env=env, capture_output=True, text=True, timeout=60)
        assert cleanup.returncode == 0, cleanup.stderr
        assert cleanup.stdout.endswith(
            "restored from its state record: interface sniff1 that pyclick created deleted\n")
        assert not link_exists(ns, "sniff1")


def test_tohostsniffers_is_checked_without_touching_an_interface():
    router = Router(flatten("Idle -> ToHostSniffers; Idle -> ToHostSniffers(s0, TYPE IP)",
                            filename="io.click"))
    router.configure()
    first, second = router.elements[1], router.elements[3]
    assert (first.devname, first.type, second.devname, second.type) == (
        "pyclicksniff0", "ETHER", "s0", "IP")
    assert configure_error("Idle -> ToHostSniffers(s0, TYPE ARCNET)") == (
        "io.click:1: While configuring 'ToHostSniffers@2 :: ToHostSniffers': TYPE: expected "
        "one of ETHER, IP, got 'ARCNET'")

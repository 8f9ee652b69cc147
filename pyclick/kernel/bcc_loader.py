"""Finding bcc and the kernel headers it compiles BPF C programs against.

Debian ships bcc's Python bindings as ``python3-bpfcc`` in
``/usr/lib/python3/dist-packages``, a directory the project's own Python
(a virtualenv or pyenv interpreter) does not search, and which holds other
Debian modules that must not shadow the interpreter's own packages. bcc is
therefore imported with that directory added only for the import.

bcc compiles against the running kernel's headers. When
``/lib/modules/$(uname -r)/build`` is missing (a kernel not built by
Debian, as in containers and VMs) the newest Debian ``linux-headers-*``
packages serve: their two halves (``-common`` and the architecture flavour)
are merged into one symlink tree under the cache directory and named in
``BCC_KERNEL_SOURCE``. The kernel's BPF interface is stable, so older
headers compile programs that load on newer kernels.

``python -m pyclick.kernel.bcc_loader`` checks all of this and says what to
install when something is missing.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Iterator, Mapping

DEBIAN_DIST_PACKAGES = Path("/usr/lib/python3/dist-packages")
USR_SRC = Path("/usr/src")
INSTALL_HINT = "apt-get install python3-bpfcc linux-headers-amd64 (or linux-headers-arm64)"


class BccUnavailable(RuntimeError):
    """bcc or what it needs is missing; the message says what to install."""


def cache_dir() -> Path:
    """Where pyclick keeps generated files: $PYCLICK_CACHE, else ~/.cache/pyclick."""
    configured = os.environ.get("PYCLICK_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pyclick"


@contextlib.contextmanager
def _extra_path(path: Path) -> Iterator[None]:
    """Make ``path`` importable for the duration, behind every other entry."""
    entry = str(path)
    added = entry not in sys.path
    if added:
        sys.path.append(entry)
    try:
        yield
    finally:
        if added:
            sys.path.remove(entry)


def import_bcc() -> ModuleType:
    """The ``bcc`` module, from the interpreter's own path or Debian's."""
    try:
        import bcc
        return bcc
    except ImportError:
        pass
    except OSError as err:
        raise BccUnavailable(f"bcc is installed but libbcc does not load ({err}); "
                             f"install it with: {INSTALL_HINT}") from err
    if not (DEBIAN_DIST_PACKAGES / "bcc").is_dir():
        raise BccUnavailable(f"bcc (BPF Compiler Collection) is not installed; "
                             f"install it with: {INSTALL_HINT}")
    with _extra_path(DEBIAN_DIST_PACKAGES):
        try:
            import bcc
        except OSError as err:
            raise BccUnavailable(f"bcc's library libbcc does not load ({err}); "
                                 f"install it with: {INSTALL_HINT}") from err
    return bcc


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def _running_kernel_build() -> Path | None:
    build = Path("/lib/modules") / platform.release() / "build"
    return build if (build / "include").is_dir() else None


def debian_header_halves(root: Path = USR_SRC) -> tuple[Path, Path] | None:
    """The newest (common, flavour) pair of Debian linux-headers directories."""
    commons = sorted(root.glob("linux-headers-*-common"), key=lambda p: _version_key(p.name),
                     reverse=True)
    for common in commons:
        prefix = common.name[: -len("common")]
        flavours = [p for p in root.glob(prefix + "*")
                    if p != common and (p / "include" / "generated").is_dir()]
        if flavours:
            return common, sorted(flavours)[0]
    return None


def _link_tree(source: Path, target: Path) -> None:
    """Mirror ``source`` into ``target`` as symlinks, keeping existing entries."""
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        relative = Path(dirpath).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            link = target / relative / name
            if not link.exists() and not link.is_symlink():
                link.symlink_to(Path(dirpath) / name)


def merged_headers(common: Path, flavour: Path, cache: Path | None = None) -> Path:
    """A symlink tree joining Debian's two header halves, built once per version.

    The flavour half wins where both hold a file (its Makefile and generated
    headers are the configured ones).
    """
    tree = (cache or cache_dir()) / "kernel-headers" / flavour.name
    if (tree / ".complete").exists():
        return tree
    tree.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=flavour.name + ".", dir=tree.parent))
    try:
        _link_tree(flavour, scratch)
        _link_tree(common, scratch)
        (scratch / ".complete").write_text(f"{common}\n{flavour}\n")
        try:
            scratch.rename(tree)
        except OSError:
            # Another process finished the same tree first.
            if not (tree / ".complete").exists():
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return tree


def kernel_source() -> Path:
    """The header tree bcc should compile against, set up if needed."""
    configured = os.environ.get("BCC_KERNEL_SOURCE")
    if configured:
        if not Path(configured, "include").is_dir():
            raise BccUnavailable(f"BCC_KERNEL_SOURCE={configured} has no include/ directory")
        return Path(configured)
    build = _running_kernel_build()
    if build is not None:
        return build
    halves = debian_header_halves()
    if halves is None:
        raise BccUnavailable(f"no kernel headers for {platform.release()} and no Debian "
                             f"linux-headers package in {USR_SRC}; install one with: "
                             f"apt-get install linux-headers-amd64 (or linux-headers-arm64)")
    return merged_headers(*halves)


def prepare() -> ModuleType:
    """Import bcc and point it at usable kernel headers; returns the module."""
    bcc = import_bcc()
    source = kernel_source()
    if source != _running_kernel_build():
        os.environ["BCC_KERNEL_SOURCE"] = str(source)
    return bcc


def _define(name: str, value: int | str) -> str:
    return f"-D{name}={value}"


class BpfCompileError(RuntimeError):
    """bcc could not compile a BPF C file; clang's messages went to stderr."""


def compile_program(source: Path, defines: Mapping[str, int | str] | None = None) -> object:
    """Compile a BPF C file with bcc; returns the ``bcc.BPF`` object.

    ``defines`` become ``-DNAME=value`` flags; the file's directory is on the
    include path.
    """
    bcc = prepare()
    flags = [_define(k, v) for k, v in (defines or {}).items()]
    flags.append(f"-I{source.parent}")
    try:
        return bcc.BPF(src_file=str(source).encode(), cflags=flags)
    except Exception as err:
        raise BpfCompileError(f"{source}: BPF compilation failed ({err}); the compiler's "
                              f"messages are above") from err


@dataclass(frozen=True)
class CheckResult:
    """One line of ``python -m pyclick.kernel.bcc_loader``."""

    what: str
    ok: bool
    detail: str


TRIVIAL_PROGRAM = "int xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }"


def check() -> list[CheckResult]:
    """Every prerequisite of the kernel path, each with what to do when missing."""
    results = [CheckResult("root", os.geteuid() == 0,
                           "running as root" if os.geteuid() == 0
                           else "loading BPF programs needs root (or CAP_BPF and CAP_NET_ADMIN)")]
    try:
        bcc = import_bcc()
        results.append(CheckResult("bcc", True, f"bcc {getattr(bcc, '__version__', '?')} "
                                                f"from {Path(bcc.__file__).parent}"))
    except BccUnavailable as err:
        return results + [CheckResult("bcc", False, str(err))]
    try:
        source = kernel_source()
        results.append(CheckResult("kernel headers", True, str(source)))
    except BccUnavailable as err:
        return results + [CheckResult("kernel headers", False, str(err))]
    try:
        prepare()
        with bcc.BPF(text=TRIVIAL_PROGRAM.encode()) as program:
            program.load_func(b"xdp_pass", bcc.BPF.XDP)
        results.append(CheckResult("compile and load", True, "a test XDP program loads"))
    except Exception as err:
        results.append(CheckResult("compile and load", False,
                                   f"{err}; bcc needs matching headers ({INSTALL_HINT}) "
                                   f"and root"))
    return results


def main() -> int:
    results = check()
    for result in results:
        print(f"{'ok' if result.ok else 'MISSING':8} {result.what}: {result.detail}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

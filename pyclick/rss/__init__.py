"""What every RSS implementation agrees on, shared by the kernel path, the
simulator, the balancing core and the tools.

- ``toeplitz``: the Toeplitz hash and the NIC's hash input layout;
- ``keys``: the Microsoft key most NICs ship with (without numpy);
- ``indirection``: the even indirection table a NIC starts from, and the
  bucket of each hash.

It imports nothing of pyclick, so that any layer may use it.
"""

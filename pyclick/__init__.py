"""pyclick: the Click modular router language, interpreted in Python.

Its flagship element is DeviceBalancer, an implementation of RSS++
(stateful intra-server load balancing through the NIC's RSS indirection
table).
"""

__version__ = "0.1.0"

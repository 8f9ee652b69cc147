"""The simulated NIC: RSS hashing, traffic, queues and cores in simulated time.

- ``toeplitz``: the Toeplitz hash and the NIC's hash input layout;
- ``flows``, ``population``: flow 5-tuples, frames and live-flow tables;
- ``traffic``: the synthetic flow model and pcap replay (``pcap``);
- ``nic``: the NIC model (indirection table, queues, cores), which
  implements the RssDevice, BucketCounter and LoadSource seams;
- ``stats``: per-second statistics and the imbalance metric;
- ``datapath``: threads that process real Packet objects per simulated core.

The elements SimNIC and SimCounter (``pyclick.elements.simnic``) put the
model in a router.
"""

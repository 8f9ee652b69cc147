"""The simulated NIC: traffic, queues and cores in simulated time.

Its packets are hashed as a NIC hashes them (``pyclick.rss.toeplitz``).

- ``flows``, ``population``: flow 5-tuples, frames and live-flow tables;
- ``traffic``: the synthetic flow model; ``families``: its named settings;
  ``profile``: offered load that changes over time; ``bursts``: the
  elephants' on/off bursts over a block of epochs;
- ``pcap``, ``dissect``, ``replay``: capture files, frames to hashes, and
  their replay, streamed as simulated time advances;
- ``nic``: the NIC model (indirection table, queues, cores), which
  implements the RssDevice, BucketCounter and LoadSource seams;
- ``queueing``: each core's FIFO queue, step by step: drops and every
  packet's delay;
- ``stats``: per-second statistics in bounded memory, the imbalance metric;
  ``histogram``: the log-spaced histograms they keep the whole run in;
- ``datapath``: threads that process real Packet objects per simulated core;
- ``progress``: progress bars for long runs, on a terminal only.

The elements SimNIC and SimCounter (``pyclick.elements.simnic``) put the
model in a router.
"""

"""What makes a configured router run.

- ``timers`` and ``tasks``: the two ways an element asks for time on its thread;
- ``threads``: real-time worker threads, each pinned to a CPU (or not);
- ``simloop``: the simulated-time event loop; ``clock``: real and simulated clocks;
- ``calls``: handing a function to another thread and waiting for its outcome;
- ``handlers``: read/write handlers, per element and global;
- ``ports``: port-count declarations;
- ``controlsocket_protocol``: the ControlSocket wire protocol.
"""

"""What makes a configured router run, without knowing the router.

The runtime is written against protocols it owns (``host``): a Host (the
router: time, stop, failures) and Owners of timers and tasks (elements).
It never imports the router, the element base class or the element modules;
the router wires it together.

- ``host``: the Host and Owner protocols;
- ``scheduling``: the late-bound handle through which timers and tasks reach
  the scheduler;
- ``timers`` and ``tasks``: the two ways an element asks for time on its thread;
- ``threads``: real-time worker threads, each pinned to a CPU (or not);
- ``simloop``: the simulated-time event loop; ``clock``: real and simulated clocks;
- ``calls``: handing a function to another thread and waiting for its outcome;
- ``stopsignals``: the signals that stop a run, and how the command learns which one;
- ``handlers``: read/write handlers, per element and global;
- ``graph`` and ``ports``: connections checked against port-count declarations;
- ``processing``: push, pull and agnostic ports (Click's codes) and their resolution;
- ``notifier``: the signals that let pull drivers and sources sleep (Click's notifiers);
- ``order``: the initialization order derived from the elements' references;
- ``placement``: which worker thread, on which CPU, runs each element;
- ``loads``: core loads for a balancer, from /proc/stat or the worker threads;
- ``controlsocket_protocol``: the ControlSocket wire protocol.
"""

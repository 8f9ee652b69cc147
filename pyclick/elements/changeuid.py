"""ChangeUID: set-uid privileges given up once the privileged elements are set up."""

from __future__ import annotations

import os

from pyclick.element import CONFIGURE_PHASE_PRIVILEGED, Element
from pyclick.errors import ConfigError


class ChangeUID(Element):
    """ChangeUID() -- relinquish root privilege

    Description
    When the router initializes, sets the process's effective group and
    user IDs to its real ones, giving up what a set-uid (or set-gid)
    launch granted. ChangeUID configures and initializes right after the
    elements that need privileges (FromDevice, ToDevice...) and before most
    others: an element after it that opens a file the real user may not
    read fails to initialize. A process with equal real and effective IDs
    is left as it is.

    Ports
    none

    Example
    FromDevice(eth0) -> Discard;
    ChangeUID();
    """

    configure_phase = CONFIGURE_PHASE_PRIVILEGED + 1

    def initialize(self) -> None:
        try:
            os.setgid(os.getgid())
            os.setuid(os.getuid())
        except OSError as err:
            raise ConfigError(messages=[f"could not drop privilege: {err.strerror}"]) from None

"""FlowInfo: flow codes the configuration gives its elements, in place of their classes'."""

from __future__ import annotations

from pyclick.args import Args, split_words
from pyclick.element import CONFIGURE_PHASE_INFO, Element
from pyclick.errors import NoSuchElement
from pyclick.lang.configstr import split_args, strip_comments
from pyclick.runtime.processing import port_flow


class FlowInfo(Element):
    """FlowInfo(ELEMENT FLOWCODE, ...) -- specifies flow codes

    Description
    Gives some elements a flow code of the configuration's choosing in
    place of their class's. A flow code says which inputs of an element
    packets may travel to which outputs: 'x/x' any input to any output,
    'x/y' none, '#/#' each input to the output of the same number, and so
    on (letters shared by an input and an output link them). Each argument
    is an ELEMENT name and its CODE; of two codes for one element the
    later holds.

    The codes are in place when the router starts, and steer what the
    elements learn then by following packets' paths: whether an empty
    queue upstream or a full one downstream can be waited for (the
    notifiers of Queue, Unqueue and the like). As in Click, the push and
    pull processing of the ports, settled before any element configures,
    follows the classes' codes.

    Mistakes are reported as errors but do not stop the router, as in
    Click: an argument that is not two words, a name that is no element,
    and a code that cannot be read (which the element then does not get).

    Ports
    none

    Example
    FlowInfo(n x/y);
    InfiniteSource(LIMIT 5) -> q :: Queue -> n :: Null -> Unqueue -> Discard;
    """

    port_count = "0/0"
    configure_phase = CONFIGURE_PHASE_INFO

    def configure(self, args: Args) -> None:
        args.accept_rest()
        for text in split_args(strip_comments(args.config), brackets=True):
            words = split_words(text)
            if len(words) != 2:
                self._error("expected 'ELEMENT CODE'")
                continue
            try:
                element = self.router.find(words[0], self)
            except NoSuchElement:
                self._error(f"'{words[0]}' does not name an element")
                continue
            try:
                for port in range(element.ninputs):
                    port_flow(words[1], False, port, element.ninputs, element.noutputs)
                for port in range(element.noutputs):
                    port_flow(words[1], True, port, element.ninputs, element.noutputs)
            except ValueError as err:
                self._error(f"'{element.declaration()}' {err}")
                continue
            element.flow_code = words[1]
        args.complete()

    def _error(self, message: str) -> None:
        self.log.error("%s: %s", self.declaration(), message)

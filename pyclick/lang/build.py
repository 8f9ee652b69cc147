"""Reading a parsed program into scopes, with Click's rules for what names mean.

This is the part of flattening that Click does while it parses: deciding
whether an identifier names an element or a class (an identifier that is
not an element in scope is a class, so ``x -> y`` declares ``x@1 :: x`` and
``y@2 :: y``), naming anonymous elements ``Class@N`` after their slot in the
scope, defining compound classes (lexically scoped, with overloads), turning
element groups into pass-through pseudo-elements, filling in implicit
``input``/``output``, joining element lists across arrows, and reading
``define`` and ``require``. Compound instantiation comes after, in
:mod:`pyclick.lang.expand`.
"""

from __future__ import annotations

import os
import re
from typing import Container

from pyclick.errors import ConfigError, ErrorCollector, Landmark
from pyclick.lang import syntax as s
from pyclick.lang.classes import REST, Binding, Compound, Primitive
from pyclick.lang.configstr import brief, shift_word, shown, split_args, split_words, unquote
from pyclick.lang.joins import (NO_PORTS, Endpoint, PortList, boundary_errors, join, lacking,
                                port_count)
from pyclick.lang.parsecache import parse_text
from pyclick.lang.scope import Body, LocalElement
from pyclick.lang.source import decode_config

#: Groups and compound classes nested deeper than this are refused.
MAX_NESTING = 100
#: The largest port number accepted.
MAX_PORT = 65535
#: The longest library file read, in bytes.
MAX_LIBRARY_SIZE = 16 * 1024 * 1024

_PSEUDO = ("input", "output")
_VARIABLE = re.compile(r"\$[A-Za-z0-9_]+")


# Not dataclasses: see pyclick.lang.record.
class Flattening:
    """What one flattening shares across scopes and files."""

    __slots__ = ("errors", "group_ports", "classes", "primitives", "requirements",
                 "requirement_landmarks", "libraries")

    def __init__(self, errors: ErrorCollector, classes: Container[str] = frozenset()) -> None:
        self.errors = errors
        #: Mistakes in how groups are connected: Click finds them where it expands
        #: compounds, once the whole text is read, so they are reported with those.
        self.group_ports = ErrorCollector()
        #: Names of the element classes the router will know (see ``lang.flatten``).
        self.classes = classes
        self.primitives: dict[str, Primitive] = {}
        self.requirements: list[tuple[str, str]] = []
        self.requirement_landmarks: dict[tuple[str, str], Landmark] = {}
        self.libraries: set[str] = set()

    def primitive(self, name: str) -> Primitive:
        return self.primitives.setdefault(name, Primitive(name))

    def require(self, requirement: tuple[str, str], landmark: Landmark) -> None:
        if requirement not in self.requirement_landmarks:
            self.requirements.append(requirement)
            self.requirement_landmarks[requirement] = landmark


def read_program(program: s.Program, flattening: Flattening, from_file: bool = True) -> Body:
    """The file scope of ``program``, libraries it requires included; ``from_file``:
    the program is the file its name names, not to be read again as a library."""
    if from_file and os.path.isfile(program.filename):
        flattening.libraries.add(os.path.realpath(program.filename))
    reader = _ScopeReader(flattening, None, 0, 0, program.filename)
    reader.read(program.statements, 0)
    reader.name_anonymous()
    return reader.body


def _plain_item(item: s.Item) -> bool:
    """Whether ``item`` is an element without ports, declared with a named class if at
    all (not a compound written in place, whose reading makes a class)."""
    target = item.target
    return type(target) is s.ElementRef and item.in_port is None and item.out_port is None \
        and (target.declared is None or type(target.declared) is s.ClassName)


def _endpoints(read: list[Endpoint] | int) -> list[Endpoint]:
    """The endpoints of a list as :meth:`_ScopeReader.connection` keeps them: a plain
    element's index stands for its one endpoint, without ports."""
    return [Endpoint(read, NO_PORTS, NO_PORTS)] if type(read) is int else read


class _Pending:
    """An element of a list, read up to the point where Click adds it to its scope."""

    __slots__ = ("item", "word_class", "declared", "declared_spec", "config", "endpoint")

    def __init__(self, item: s.Item) -> None:
        self.item = item
        self.word_class: Binding | None = None
        self.declared: Binding | None = None
        self.declared_spec: s.ClassSpec | None = None
        self.config: s.Config | None = None
        self.endpoint: Endpoint | None = None

    @property
    def bare(self) -> bool:
        target = self.item.target
        return isinstance(target, s.ElementRef) and target.declared is None and target.config is None


class _ScopeReader:
    """Reads the statements of one scope into a :class:`Body`."""

    def __init__(self, flattening: Flattening, parent: "_ScopeReader | None", depth: int,
                 anonymous_offset: int, filename: str):
        self.flattening = flattening
        self.parent = parent
        self.depth = depth
        self.offset = anonymous_offset
        self.filename = filename
        self.body = Body()
        self.names: dict[str, int] = {}
        self.classes: dict[str, Binding] = {}
        # The words read here as primitive classes: as in Click, seen in this
        # scope and those it encloses, not in one beside it (a word a compound
        # class's body uses as a class may name an element outside it).
        self.words: dict[str, Binding] = {}
        self.parameters: set[str] = set()
        self.groups_open = 0

    def error(self, message: str, landmark: Landmark) -> None:
        self.flattening.errors.error(message, landmark)

    @property
    def nested(self) -> bool:
        """Inside a compound or a group, where ``input`` and ``output`` exist."""
        return self.depth > 0 or self.groups_open > 0

    # --- statements

    def read(self, statements: tuple[s.Statement, ...] | list[s.Statement], nesting: int) -> None:
        if nesting > MAX_NESTING:
            if statements:
                self.error(f"groups and compound classes nested more than {MAX_NESTING} deep",
                           statements[0].landmark)
            return
        for statement in statements:
            if isinstance(statement, s.Connection):
                self.connection(statement, nesting)
            elif isinstance(statement, s.ElementClassDef):
                self.elementclass(statement, nesting)
            elif isinstance(statement, s.Define):
                self.define(statement)
            else:
                self.require(statement, nesting)

    def elementclass(self, statement: s.ElementClassDef, nesting: int) -> None:
        name = statement.name
        taken = name in self.names
        if taken:
            self.error(f"'{brief(name)}' already used as an element name", statement.landmark)
        binding = self.class_spec(statement.spec, nesting, name)
        if not taken:
            self.classes[name] = binding

    def define(self, statement: s.Define) -> None:
        for arg in split_args(statement.config.text):
            if not arg:
                continue
            variable, value = shift_word(arg)
            if not _VARIABLE.fullmatch(variable):
                self.error(f"bad 'define' declaration: {shown(variable)} is not a variable",
                           statement.landmark)
                continue
            if self.declare_parameter(variable[1:], statement.landmark):
                self.body.defines[variable[1:]] = value

    def declare_parameter(self, name: str, landmark: Landmark) -> bool:
        if name in self.parameters:
            self.error(f"parameter '${brief(name)}' multiply defined", landmark)
            return False
        self.parameters.add(name)
        return True

    def require(self, statement: s.Require, nesting: int) -> None:
        for arg in split_args(statement.config.text):
            words = split_words(arg)
            if not words:
                continue
            kind = unquote(words[0])
            if kind not in ("compact_config", "package", "library") and len(words) == 1:
                kind, words = "package", ["package", words[0]]
            name = unquote(words[1]) if len(words) == 2 else ""
            if kind == "compact_config" and len(words) == 1:
                self.flattening.require(("", "compact_config"), statement.landmark)
            elif kind == "package" and name:
                self.flattening.require(("package", name), statement.landmark)
            elif kind == "library" and name:
                self.library(name, statement.landmark, nesting)
            else:
                self.error(f"bad requirement {shown(arg)}", statement.landmark)

    def library(self, path: str, landmark: Landmark, nesting: int) -> None:
        """Read the Click file ``path`` (relative to the requiring file) here, once."""
        if self.depth > 0:
            self.error("'require(library ...)' may only be used at file scope", landmark)
            return
        full = os.path.join(os.path.dirname(self.filename), path)
        if "\0" in full or not os.path.isfile(full):
            self.error(f"library {shown(path)} not found", landmark)
            return
        real = os.path.realpath(full)
        if real in self.flattening.libraries:
            return
        self.flattening.libraries.add(real)
        try:
            with open(full, "rb") as f:
                data = f.read(MAX_LIBRARY_SIZE + 1)
        except OSError as err:
            self.error(f"cannot read library {shown(path)}: {err.strerror}", landmark)
            return
        if len(data) > MAX_LIBRARY_SIZE:
            self.error(f"library {shown(path)} is larger than {MAX_LIBRARY_SIZE} bytes", landmark)
            return
        try:
            text = decode_config(data, full)
        except ConfigError as err:
            self.flattening.errors.absorb(err)
            return
        program, errors = parse_text(text, full)
        self.flattening.errors.messages.extend(errors)
        if program is not None:
            requiring, self.filename = self.filename, full
            self.read(program.statements, nesting)
            self.filename = requiring

    # --- classes

    def class_of(self, name: str) -> Binding | None:
        """The class ``name`` means here, if it means one."""
        scope: _ScopeReader | None = self
        while scope is not None:
            if name in scope.classes:
                return scope.classes[name]
            scope = scope.parent
        scope = self
        while scope is not None:
            if name in scope.words:
                return scope.words[name]
            scope = scope.parent
        return None

    def primitive(self, name: str) -> Binding:
        """The primitive class ``name``, read as a class in this scope from now on."""
        binding = self.words[name] = self.flattening.primitive(name)
        return binding

    def force_class(self, name: str, landmark: Landmark) -> Binding:
        """The class ``name``, made a primitive class if it is not one yet."""
        binding = self.class_of(name)
        if binding is None:
            if name in self.names:
                self.error(f"'{brief(name)}' was previously used as an element name", landmark)
            binding = self.primitive(name)
        return binding

    def class_spec(self, spec: s.ClassSpec, nesting: int, name: str = "") -> Binding:
        if isinstance(spec, s.ClassName):
            return self.force_class(spec.name, spec.landmark)
        return self.compound_class(spec, name, nesting)

    def compound_class(self, spec: s.CompoundClass, name: str, nesting: int) -> Compound:
        definitions = []
        for body in spec.bodies:
            reader = _ScopeReader(self.flattening, self, self.depth + 1, 2, self.filename)
            definitions.append(reader.read_compound(name, body, nesting + 1))
        for earlier, later in zip(definitions, definitions[1:]):
            earlier.overload = later
        if spec.extends:
            if name:
                definitions[-1].overload = self.class_of(name) or self.primitive(name)
            else:
                self.error("cannot extend an anonymous compound class", spec.landmark)
        return definitions[0]

    def read_compound(self, name: str, body: s.CompoundBody, nesting: int) -> Compound:
        for pseudo in _PSEUDO:
            self.names[pseudo] = self.body.add(LocalElement(pseudo, None, "", body.landmark))
        formals = self.formals(body.formals)
        self.read(body.statements, nesting)
        printable = brief(name) if name else "<anonymous>"
        ninputs, inputs_left_out = self.pseudo_ports(0, "input", printable, body.landmark)
        noutputs, outputs_left_out = self.pseudo_ports(1, "output", printable, body.landmark)
        self.name_anonymous()
        return Compound(name, formals, self.body, self.depth, body.landmark, ninputs, noutputs,
                        (inputs_left_out, outputs_left_out))

    def formals(self, formals: tuple[s.Formal, ...]) -> tuple[s.Formal, ...]:
        accepted: list[s.Formal] = []
        keywords: set[str] = set()
        out_of_order = False
        for formal in formals:
            if not self.declare_parameter(formal.variable, formal.landmark):
                continue
            if formal.keyword is not None:
                if formal.keyword in keywords:
                    self.error(f"repeated keyword parameter '{brief(formal.keyword)}' in "
                               "compound element", formal.landmark)
                keywords.add(formal.keyword)
            previous = accepted[-1].keyword if accepted else None
            if not out_of_order and accepted and (
                    previous == REST or (formal.keyword is None and previous is not None)):
                self.error("compound element parameters out of order: the order is "
                           "[positional], [keywords], [__REST__]", formal.landmark)
                out_of_order = True
            accepted.append(formal)
        return tuple(accepted)

    def pseudo_ports(self, index: int, pseudo: str, owner: str, landmark: Landmark
                     ) -> tuple[int, frozenset[int]]:
        """Check the use of pseudo-element ``pseudo`` (``input`` or ``output``) of
        ``owner``; the number of ports it gives its owner, and those of them the
        body leaves out."""
        element = self.body.elements[index]
        if pseudo == "input":
            wrong, used, wrong_at, other = element.inputs_used, element.outputs_used, \
                element.first_input_use, "output"
        else:
            wrong, used, wrong_at, other = element.outputs_used, element.inputs_used, \
                element.first_output_use, "input"
        if wrong:
            self.error(f"'{owner}' pseudoelement '{pseudo}' may only be used as {other} "
                       f"(see {wrong_at})", landmark)
        left_out = lacking(used)
        for port in sorted(left_out):
            self.error(f"'{owner}' {pseudo} {port} missing", landmark)
        return port_count(used), left_out

    # --- elements

    def name_anonymous(self) -> None:
        """Give anonymous elements their final names, ``Class@N``, skipping names in use."""
        # Numbers only grow along the scope and names are only added, so a
        # search for a free number goes on where the last one for the same
        # class stopped: every number is tried once.
        searched: dict[str, int] = {}
        for index, element in enumerate(self.body.elements):
            if not element.anonymous or element.binding is None:
                continue
            name = element.name
            if name in self.names:
                prefix, number = name.rsplit("@", 1)
                n = max(int(number), searched.get(prefix, 0))
                while f"{prefix}@{n}" in self.names:
                    n += 1
                searched[prefix] = n
                name = element.name = f"{prefix}@{n}"
            self.names[name] = index

    def next_anonymous(self, class_word: str) -> str:
        return f"{class_word}@{len(self.body.elements) - self.offset + 1}"

    def element(self, ref: s.ElementRef, word_class: Binding | None, declared: Binding | None,
                spec: s.ClassSpec | None, given: s.Config | None) -> int | None:
        """Add (or find) the element ``ref`` stands for, its word meaning ``word_class``,
        declared ``declared`` (from ``spec``) with configuration ``given``; its index."""
        config = given.text if given else ""
        word = ref.word
        if word is None:
            return self.add_anonymous("", declared, config, ref.landmark)
        if word_class is None and word in self.names:
            index = self.names[word]
            # As Click, which reads the string before it sees the declaration
            # (if any) end: first the string, where it is written.
            if given is not None:
                self.error("configuration string ignored on element reference", given.landmark)
            if declared is not None:
                self.error(f"redeclaration of element '{brief(word)}'", ref.landmark)
                self.error(f"element '{brief(word)}' previously declared here",
                           self.body.elements[index].landmark)
            return index
        if declared is not None and (word_class is not None or word in self.flattening.classes
                                     or isinstance(spec, s.ClassName) and spec.name == word):
            self.error(f"class '{brief(word)}' used as element name", ref.landmark)
            # Click goes on with an element of that class, whose joins it checks.
            if word_class is None:
                word_class = self.primitive(word)
        elif declared is None and word_class is None:
            if word in _PSEUDO:
                self.error(f"'{word}' means something only inside groups and compound classes",
                           ref.landmark)
                return None
            word_class = self.primitive(word)
        if word_class is not None:
            return self.add_anonymous(word, word_class, config, ref.landmark)
        return self.add_named(word, declared, config, ref.landmark)

    def add_named(self, name: str, binding: Binding, config: str, landmark: Landmark) -> int:
        # Most names have no slash: one test then, rather than a loop over the parts.
        digits = name.isdigit() if "/" not in name else any(p.isdigit() for p in name.split("/"))
        if digits:
            self.error(f"element name '{brief(name)}' has all-digit component", landmark)
        index = self.body.add(LocalElement(name, binding, config, landmark))
        self.names[name] = index
        return index

    def add_anonymous(self, class_word: str, binding: Binding, config: str,
                      landmark: Landmark) -> int:
        name = self.next_anonymous(class_word)
        return self.body.add(LocalElement(name, binding, config, landmark, anonymous=True))

    # --- connections

    def connection(self, connection: s.Connection, nesting: int) -> None:
        segments, arrows = connection.segments, connection.arrows
        # What the list before gave: its endpoints, or the index of a plain element.
        previous: list[Endpoint] | int | None = None
        groups: list[tuple[Endpoint, s.Group]] = []
        for k, items in enumerate(segments):
            before = arrows[k - 1] if k > 0 else None
            item = items[0] if len(items) == 1 else None
            if item is not None and type(item.target) is s.ElementRef \
                    and item.in_port is None and item.out_port is None:
                # The common case, one element without ports: nothing to spread or
                # check, and joined port 0 to port 0 to another such element.
                endpoints: list[Endpoint] | int | None = self.plain(item.target, nesting)
            elif len(items) > 1 and arrows and all(_plain_item(i) for i in items):
                endpoints = self.plain_list(items, nesting)
            else:
                after = arrows[k] if k < len(arrows) else None
                endpoints = self.segment(items, before, after, nesting, groups, connection.end)
            if endpoints is not None and previous is not None and before is not None:
                if type(endpoints) is int and type(previous) is int:
                    self.body.connect(previous, 0, endpoints, 0, before.landmark)
                elif endpoints != [] and previous != []:
                    # Click joins two lists once it has read the token after the
                    # second (the next arrow, or what ends the statement), and
                    # reports what is wrong with the join there.
                    after = arrows[k].landmark if k < len(arrows) else connection.end
                    self.join(_endpoints(previous), _endpoints(endpoints), before, after)
            previous = endpoints
        for endpoint, group in groups:
            self.group_ports(endpoint.index, group)

    def segment(self, items: tuple[s.Item, ...], before: s.Arrow | None, after: s.Arrow | None,
                nesting: int, groups: list, end: Landmark) -> list[Endpoint] | None:
        if not items:
            return self.missing_segment(before, after)
        pending = [self.prepare(item, nesting, groups) for item in items]
        if before is None and after is None:
            self.spread_declaration(pending)
        endpoints = []
        for p in pending:
            endpoint = p.endpoint or self.resolve(p, before, after)
            if endpoint is not None:
                endpoints.append(endpoint)
        self.check_end_ports(pending, before, after, end)
        return endpoints

    def plain(self, ref: s.ElementRef, nesting: int) -> int | None:
        """The index of an element standing alone in its list, without ports:
        read as :meth:`prepare` and :meth:`resolve` read it (:meth:`classes_of` in
        place: most elements of a configuration are read here)."""
        word, spec = ref.word, ref.declared
        return self.element(ref, self.class_of(word) if word is not None else None,
                            self.class_spec(spec, nesting) if spec is not None else None,
                            spec, ref.config)

    def plain_list(self, items: tuple[s.Item, ...], nesting: int) -> list[Endpoint]:
        """The endpoints of a list in a chain whose items are all plain (``_plain_item``):
        read as :meth:`segment` reads them, every item's classes first and then
        its element, without the steps that only ports, groups or a list
        declared alone need."""
        refs = [item.target for item in items]
        classes = [self.classes_of(ref, nesting) for ref in refs]
        endpoints = []
        for ref, (word_class, declared) in zip(refs, classes):
            index = self.element(ref, word_class, declared, ref.declared, ref.config)
            if index is not None:
                endpoints.append(Endpoint(index, NO_PORTS, NO_PORTS))
        return endpoints

    def classes_of(self, ref: s.ElementRef, nesting: int) -> tuple[Binding | None, Binding | None]:
        """What ``ref``'s word names as a class, and the class it is declared with."""
        word_class = self.class_of(ref.word) if ref.word is not None else None
        spec = ref.declared
        return word_class, (self.class_spec(spec, nesting) if spec is not None else None)

    def missing_segment(self, before: s.Arrow | None, after: s.Arrow | None) -> list[Endpoint] | None:
        """An element list left out: implicit ``input``/``output``, or a mistake."""
        if before is None and after is not None and self.nested:
            return [Endpoint(self.names["input"], NO_PORTS, NO_PORTS)]
        if after is None and before is not None and self.nested:
            return [Endpoint(self.names["output"], NO_PORTS, NO_PORTS)]
        if after is not None:
            self.error(f"syntax error near '{'=>' if after.many else '->'}'", after.landmark)
        else:
            self.error(f"syntax error: element expected after '{'=>' if before.many else '->'}'",
                       before.landmark)
        return None

    def prepare(self, item: s.Item, nesting: int, groups: list) -> _Pending:
        """Read one list item as far as Click does before the list ends."""
        pending = _Pending(item)
        target = item.target
        if isinstance(target, s.Group):
            pending.endpoint = self.group(item, target, nesting)
            groups.append((pending.endpoint, target))
        elif isinstance(target, s.ElementRef):
            pending.word_class, pending.declared = self.classes_of(target, nesting)
            pending.declared_spec = target.declared
            pending.config = target.config
        return pending

    def spread_declaration(self, pending: list[_Pending]) -> None:
        """``a, b :: C(config)`` standing alone declares every name with C(config)."""
        if len(pending) < 2 or any(p.item.in_port or p.item.out_port or p.item.target is None
                                   for p in pending):
            return
        last = next(p for p in pending if not p.bare or p is pending[-1])
        if last is pending[-1] and last.declared is not None:
            for p in pending[:-1]:
                p.declared, p.declared_spec, p.config = last.declared, last.declared_spec, last.config

    def resolve(self, pending: _Pending, before: s.Arrow | None,
                after: s.Arrow | None) -> Endpoint | None:
        item = pending.item
        if item.target is None:
            return self.implicit(item, before, after)
        index = self.element(item.target, pending.word_class, pending.declared,
                             pending.declared_spec, pending.config)
        if index is None:
            return None
        return Endpoint(index, self.ports(item.in_port), self.ports(item.out_port))

    def implicit(self, item: s.Item, before: s.Arrow | None, after: s.Arrow | None) -> Endpoint | None:
        """A bare port: the port of an implicit ``input`` (chain start) or ``output`` (end)."""
        if not self.nested:
            self.error("port without an element: 'input' and 'output' are implicit only "
                       "inside groups and compound classes", item.landmark)
            return None
        ports = self.ports(item.in_port)
        if before is None and after is not None:
            return Endpoint(self.names["input"], NO_PORTS, ports)
        if after is None and before is not None:
            return Endpoint(self.names["output"], ports, NO_PORTS)
        if before is not None:
            self.error("implicit ports used in the middle of a chain", item.landmark)
        else:
            self.error("port without an element or a connection", item.landmark)
        return None

    def check_end_ports(self, pending: list[_Pending], before: s.Arrow | None,
                        after: s.Arrow | None, end: Landmark) -> None:
        # Reported where Click's lexer is when it finds them: at the arrow after
        # the first list, and after the token that follows the last one.
        named = [p.item for p in pending if p.item.target is not None]
        if before is None and any(item.in_port for item in named):
            self.error("input ports ignored at start of chain",
                       after.landmark if after is not None else end)
        if after is None and any(item.out_port for item in named):
            self.error("output ports ignored at end of chain", end)

    def ports(self, spec: s.PortSpec | None) -> PortList:
        if spec is None:
            return NO_PORTS
        numbers: list[int] = []
        for item in spec.ranges:
            first = self.port_number(item.first, item.landmark)
            numbers.append(first)
            if item.last is not None:
                numbers.extend(range(first + 1, self.port_number(item.last, item.landmark) + 1))
            if len(numbers) > MAX_PORT + 1:
                self.error(f"more than {MAX_PORT + 1} ports in one port list", spec.landmark)
                del numbers[MAX_PORT + 1:]
                break
        return PortList(tuple(numbers or [0]) if spec.open else tuple(numbers), spec.open)

    def port_number(self, text: str, landmark: Landmark) -> int:
        if not (text.isascii() and text.isdigit()):
            self.error(f"syntax error: port number should be integer, not {shown(text)}", landmark)
            return 0
        # Compared as digits first: Python refuses to convert very long numbers.
        digits = text.lstrip("0") or "0"
        if len(digits) > len(str(MAX_PORT)) or int(digits) > MAX_PORT:
            self.error(f"port number {brief(text)} too large (at most {MAX_PORT})", landmark)
            return 0
        return int(digits)

    def join(self, outputs: list[Endpoint], inputs: list[Endpoint], arrow: s.Arrow,
             reported_at: Landmark) -> None:
        """Connect ``outputs`` to ``inputs`` across ``arrow``, each connection at the
        arrow's place; a mistake in the join is reported at ``reported_at``."""
        connections, errors = join(outputs, inputs, arrow.many)
        for message in errors:
            self.error(message, reported_at)
        for from_index, from_port, to_index, to_port in connections:
            self.body.connect(from_index, from_port, to_index, to_port, arrow.landmark)

    # --- groups

    def group(self, item: s.Item, group: s.Group, nesting: int) -> Endpoint:
        """Read a group in place: pseudo-elements at both ends, contents in this scope."""
        name = self.next_anonymous("")
        body = self.body
        outer = body.add(LocalElement(name, None, "", group.landmark, anonymous=True))
        entry = body.add(LocalElement(f"{name}/input", None, "", group.landmark))
        exit_ = body.add(LocalElement(f"{name}/output", None, "", group.landmark))
        body.passages += [(outer, entry), (exit_, outer)]
        saved = {pseudo: self.names.get(pseudo) for pseudo in _PSEUDO}
        self.names["input"], self.names["output"] = entry, exit_
        self.groups_open += 1
        self.read(group.statements, nesting + 1)
        self.groups_open -= 1
        for pseudo, index in saved.items():
            if index is None:
                del self.names[pseudo]
            else:
                self.names[pseudo] = index
        ninputs, _ = self.pseudo_ports(entry, "input", "<anonymous group>", group.landmark)
        noutputs, _ = self.pseudo_ports(exit_, "output", "<anonymous group>", group.landmark)
        inputs = self.ports(item.in_port) if item.in_port else PortList(tuple(range(ninputs)))
        outputs = self.ports(item.out_port) if item.out_port else PortList(tuple(range(noutputs)))
        return Endpoint(outer, inputs, outputs)

    def group_ports(self, outer: int, group: s.Group) -> None:
        """Every port of a group is connected outside it, and only those."""
        elements = self.body.elements
        inside_inputs, inside_outputs = elements[outer + 1].outputs_used, \
            elements[outer + 2].inputs_used
        # Click names the group by its place in the scope (``@3``) here, and
        # ``<anonymous group>`` where its body is checked.
        for message in boundary_errors(elements[outer].name, elements[outer].inputs_used,
                                       port_count(inside_inputs), elements[outer].outputs_used,
                                       port_count(inside_outputs),
                                       lacks=(lacking(inside_inputs), lacking(inside_outputs))):
            self.flattening.group_ports.error(message, group.landmark)

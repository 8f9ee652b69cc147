"""Flattening: Click's naming, compound classes and overloads, groups, ports,
variables, requirements, errors reported together, and unparse."""

from __future__ import annotations

import pytest

from pyclick.errors import ConfigError, Landmark
from pyclick.lang import flatten, joins, limits, unparse


def elements(text: str, **kwargs) -> dict[str, tuple[str, str]]:
    return {e.name: (e.class_name, e.config) for e in flatten(text, "t.click", **kwargs).elements}


def connections(text: str) -> set[tuple[str, int, str, int]]:
    return {(c.from_element, c.from_port, c.to_element, c.to_port)
            for c in flatten(text, "t.click").connections}


def errors(text: str, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as failure:
        flatten(text, "t.click", **kwargs)
    return failure.value.messages


# --- names


def test_an_element_named_after_a_class_the_router_knows_is_an_error():
    assert errors("Queue :: Counter;\nIdle -> Queue -> Discard", classes={"Queue"}) == [
        "t.click:1: class 'Queue' used as element name"]
    # Not a class the router knows: an element's name like any other.
    assert [e.name for e in flatten("Queue :: Counter;\nIdle -> Queue", "t.click").elements] \
        == ["Queue", "Idle@2"]


def test_an_element_named_after_a_class_is_still_joined_as_click_joins_it():
    # Click makes it an element of that class and checks its joins (its messages).
    assert errors("x :: Idle [0, 1]\n -> [0, 1, 2] Queue :: Discard;", classes={"Queue"}) == [
        "t.click:2: class 'Queue' used as element name",
        "t.click:2: syntax error: many-to-many connections require '=>'",
        "t.click:2: connection mismatch: 2 outputs connected to 3 inputs"]


def test_a_word_read_as_a_class_in_a_compound_s_body_names_an_element_outside():
    flat = flatten("elementclass E { input -> t -> output }\nt :: Queue;\nIdle -> E -> t",
                   "t.click")
    assert ("t", "Queue") in [(e.name, e.class_name) for e in flat.elements]
    # Read as a class outside first, it is one inside too.
    assert errors("Idle -> t -> Discard;\nelementclass E { input -> t :: Queue -> output }") \
        == ["t.click:2: class 't' used as element name"]


def test_elements_written_as_their_class_are_marked_so_in_copied_instances_too():
    # The second E is copied from the first's expansion.
    flat = flatten("elementclass E { input -> Foo -> b :: Bar -> output }\n"
                   "Idle -> E -> E -> x :: Discard", "t.click")
    assert [(e.name, e.by_class) for e in flat.elements] == [
        ("Idle@1", True), ("x", False), ("E@2/Foo@1", True), ("E@2/b", False),
        ("E@3/Foo@1", True), ("E@3/b", False)]


def test_unknown_identifiers_are_classes_of_anonymous_elements():
    assert elements("x -> y") == {"x@1": ("x", ""), "y@2": ("y", "")}


def test_anonymous_numbers_count_named_elements_and_group_slots():
    text = "a :: A; a -> (input -> output) -> Counter -> b :: B; Idle -> b"
    assert set(elements(text)) == {"a", "Counter@5", "b", "Idle@7"}


def test_anonymous_name_skips_a_name_already_declared():
    assert set(elements("Idle -> Discard; Idle@1 :: Foo")) == {"Idle@2", "Discard@2", "Idle@1"}


def test_standalone_list_declaration_shares_class_and_config():
    assert elements("a, b :: Queue(5)") == {"a": ("Queue", "5"), "b": ("Queue", "5")}


def test_element_landmarks_follow_directives_and_definitions():
    flat = flatten('elementclass C {\n input -> p :: P -> output }\n# 40 "v.click"\n'
                   "c :: C; Idle -> c -> Discard", "t.click")
    landmarks = {e.name: e.landmark for e in flat.elements}
    assert landmarks["c/p"] == Landmark("t.click", 2)
    assert landmarks["Idle@2"] == Landmark("v.click", 40)


@pytest.mark.parametrize("text, message", [
    ("src -> sink;\nsink :: Discard", "t.click:2: class 'sink' used as element name"),
    ("a :: A;\nb :: a", "t.click:2: 'a' was previously used as an element name"),
    ("a :: A;\nelementclass a { }", "t.click:2: 'a' already used as an element name"),
    ("a :: A;\na(1)", "t.click:2: configuration string ignored on element reference"),
    ("1/x :: A", "t.click:1: element name '1/x' has all-digit component"),
    ("provide -> x", "t.click:1: 'provide' is a reserved word"),
])
def test_naming_mistakes(text, message):
    assert message in errors(text)


def test_a_configuration_on_an_element_already_declared_is_reported_where_written():
    # Click's messages for the same text: the string first, at its line, then the
    # redeclaration at the name's.
    text = "a :: Counter;\na :: Queue\n(1);\nb :: Counter;\nb\n(2) -> Discard;"
    assert errors(text) == [
        "t.click:3: configuration string ignored on element reference",
        "t.click:2: redeclaration of element 'a'",
        "t.click:1: element 'a' previously declared here",
        "t.click:6: configuration string ignored on element reference"]


# --- compound classes


def test_nested_compound_instances_prefix_names():
    text = ("elementclass In { $v | input -> n :: N($v) -> output }\n"
            "elementclass Out { input -> i :: In(1) -> { input -> In(2) -> output } -> output }\n"
            "src :: Idle; src -> o :: Out -> Discard")
    assert elements(text) == {"src": ("Idle", ""), "o/i/n": ("N", "1"),
                              "o/@2/In@1/n": ("N", "2"), "Discard@3": ("Discard", "")}
    assert connections(text) == {("src", 0, "o/i/n", 0), ("o/i/n", 0, "o/@2/In@1/n", 0),
                                 ("o/@2/In@1/n", 0, "Discard@3", 0)}


def test_classes_are_lexically_scoped():
    text = ("elementclass Queue { input -> Queue(5) -> output }\n"
            "elementclass Outer { elementclass Inner { input -> I -> output } input -> Inner -> output }\n"
            "Idle -> Queue -> Outer -> Inner")
    assert elements(text) == {"Idle@1": ("Idle", ""), "Queue@2/Queue@1": ("Queue", "5"),
                              "Outer@3/Inner@1/I@1": ("I", ""), "Inner@4": ("Inner", "")}


@pytest.mark.parametrize("use, expected", [
    ("Idle -> q :: Q -> Discard", {"q/Queue@1": ("Queue", "")}),
    ("Idle -> q :: Q(7) -> Discard", {"q/Queue@1": ("Queue", "7")}),
    ("Idle -> q :: Q(7, 2) -> Discard", {"q/Queue@1": ("Queue", "7"), "q/Shaper@2": ("Shaper", "2")}),
    ("Idle -> q :: Q -> Discard; Idle -> [1] q [1] -> Discard",
     {"q/Queue@1": ("Queue", "a"), "q/Queue@2": ("Queue", "b")}),
])
def test_overload_is_chosen_by_arguments_and_ports(use, expected):
    definitions = ("elementclass Q { input -> Queue -> output || $c | input -> Queue($c) -> output"
                   " || input -> Queue(a) -> output; input [1] -> Queue(b) -> [1] output"
                   " || $c, $r | input -> Queue($c) -> Shaper($r) -> output }\n")
    flat = elements(definitions + use)
    assert {k: v for k, v in flat.items() if k.startswith("q/")} == expected


def test_extension_falls_back_to_the_class_it_extends():
    text = ("elementclass Queue { $c, $r | input -> Queue($c) -> Shaper($r) -> output || ... }\n"
            "Idle -> Queue(1, 2) -> Discard; Idle -> Queue(3) -> Discard")
    flat = elements(text)
    assert flat["Queue@2/Queue@1"] == ("Queue", "1") and flat["Queue@5"] == ("Queue", "3")


def test_synonyms_name_anonymous_elements_after_themselves():
    assert elements("elementclass Sink Discard; elementclass S2 Sink; Idle -> S2") == \
        {"Idle@1": ("Idle", ""), "S2@2": ("Discard", "")}


def test_keyword_and_rest_parameters():
    text = ("elementclass R { $a, COUNT $c, __REST__ $r | input -> P($a; $c; $r) -> output }\n"
            "Idle -> R(1, 2, COUNT 3, FOO 4) -> Discard")
    assert elements(text)["R@2/P@1"] == ("P", "1; 3; 2, FOO 4")


def test_no_matching_overload_lists_the_candidates():
    messages = errors("elementclass C { $a | input -> output || $a, $b | input -> output }\n"
                      "Idle -> C -> Discard")
    # Click's words (its user-level driver) for the same text.
    assert messages == ["t.click:2: no match for 'C[1 input, 1 output]'",
                        "t.click:1: candidates are:",
                        "t.click:1:   C(<arg>)[1 input, 1 output]",
                        "t.click:1:   C(<arg>, <arg>)[1 input, 1 output]"]


def test_compound_ports_must_match_its_use():
    messages = errors("elementclass C { input -> output }\nq :: C; Idle -> [1] q [2] -> Discard")
    # Click's messages for the same text, in its order.
    assert messages == ["t.click:2: 'q' has no input 1", "t.click:2: 'q' has no output 2",
                        "t.click:2: 'q' input 0 unused", "t.click:2: 'q' output 0 unused"]


def test_missing_ports_a_line_each_and_unused_ones_in_the_order_the_body_connects_them():
    # Click's messages for the same text: inputs 1 and 2 are missing in the class,
    # so not unused in its instance; the body connects output 1, then input 3.
    assert errors("elementclass E { input -> [1]output; input[3] -> [0]output }\n"
                  "Idle -> E -> Discard") == [
        "t.click:1: 'E' input 1 missing", "t.click:1: 'E' input 2 missing",
        "t.click:2: 'E@2' output 1 unused", "t.click:2: 'E@2' input 3 unused"]


@pytest.mark.parametrize("text, messages", [
    # Click's messages for the same texts: a port the body leaves out is
    # missing with the class, and the instance has not got it (never unused).
    ("elementclass C { input -> [1]output }\nc :: C; Idle -> [2]c -> Discard; c[1] -> Discard",
     ["t.click:1: 'C' output 0 missing", "t.click:2: 'c' has no input 2",
      "t.click:2: 'c' has no output 0", "t.click:2: 'c' input 0 unused"]),
    ("x :: Idle;\nx -> ( [0] -> [1]; [2] -> Discard ) [1] -> Discard;\nIdle -> [1]Discard",
     ["t.click:2: '<anonymous group>' input 1 missing",
      "t.click:2: '<anonymous group>' output 0 missing", "t.click:2: '@2' has no input 1"]),
    ("x :: Idle; x => [0,1] ( [0] -> [0]; [2] -> Discard ) => [0,2] Discard",
     ["t.click:1: '<anonymous group>' input 1 missing", "t.click:1: '@2' has no input 1",
      "t.click:1: '@2' input 2 unused"]),
])
def test_ports_a_body_leaves_out_are_ports_its_instance_has_not(text, messages):
    assert errors(text) == messages


def test_pseudoelements_may_only_be_used_on_their_side():
    messages = errors("elementclass L {\n input -> c :: C -> output;\n c -> [0] input;\n"
                      " input [2] -> [1] output }\nIdle -> L -> Discard")
    assert messages[:2] == ["t.click:1: 'L' pseudoelement 'input' may only be used as output "
                            "(see t.click:3)", "t.click:1: 'L' input 1 missing"]


# --- groups, ports and connections


@pytest.mark.parametrize("group", ["( input -> output )", "( [0] -> [0] )", "(->)",
                                   "( [0]->[0]; [1]->[1] ) => ( [0]->[0]; [1]->[1] )"])
def test_groups_that_connect_straight_through(group):
    assert connections(f"x :: Idle; y :: Discard; x -> {group} -> y") == {("x", 0, "y", 0)}


def test_group_port_lists_and_elements_declared_inside():
    text = "x :: X; y :: Mux; x => [0,1] ( [0] -> s :: S -> [0]; [1] -> [1] ) [0,1] => y; s -> y"
    assert connections(text) == {("x", 0, "s", 0), ("s", 0, "y", 0), ("x", 1, "y", 1)}


@pytest.mark.parametrize("text, message", [
    # Click names a group by its place in the scope where it is used, and
    # "<anonymous group>" where its body is checked.
    ("x :: X; y :: Y; x => [0] ( [0]->[0]; [1]->Idle ) -> y", "'@3' input 1 unused"),
    ("x :: X; y :: Y; x => ( [0]->[0]; [2]->Idle ) -> y", "'<anonymous group>' input 1 missing"),
    ("c :: C; c [0,1] -> P, Q", "syntax error: many-to-many connections require '=>'"),
    ("c :: C; c [0-2] => P, Q", "connection mismatch: 3 outputs connected to 2 inputs"),
    ("a :: A; a [0,2,] => [] b :: B", "at most one expandable port allowed per connection"),
    ("a :: A; a -> -> b :: B", "syntax error near '->'"),
    ("x -> (input -> [0] -> output)", "implicit ports used in the middle of a chain"),
    ("[0] -> x", "port without an element"),
    ("input -> x", "'input' means something only inside groups and compound classes"),
    ("a :: A; a [1]", "output ports ignored at end of chain"),
    ("c :: C; c [x] -> d :: D", "syntax error: port number should be integer, not 'x'"),
    ("c :: C; c [70000] -> d :: D", "port number 70000 too large"),
])
def test_connection_mistakes(text, message):
    assert any(message in m for m in errors(text)), errors(text)


@pytest.mark.parametrize("text, line", [
    # The next arrow, on line 3.
    ("a :: A [0, 1]\n -> [0, 1, 2] b :: B\n -> c :: C\n;", 3),
    # The next statement, on line 4: the statement had no semicolon.
    ("x :: X [0, 1]\n -> [0, 1, 2] y :: Y\n\nz :: Z;", 4),
    # The end of the text.
    ("p :: P [0, 1]\n => [0, 1, 2]\n  q :: Q", 3),
])
def test_a_mistaken_join_is_reported_where_click_reads_the_token_after_it(text, line):
    # Click joins two lists once it has read what follows the second, and
    # reports there; the connections themselves stay at their arrow.
    assert {m.split(": ")[0] for m in errors(text) if "connection" in m} == {f"t.click:{line}"}


def test_many_to_many_ranges_and_open_ports():
    text = "c :: C; c [0, 2-3] => [1,] m :: M; r :: R; r => p :: P, q :: Q; s :: S; s, t :: S => u :: U"
    assert connections(text) == {("c", 0, "m", 1), ("c", 2, "m", 2), ("c", 3, "m", 3),
                                 ("r", 0, "p", 0), ("r", 1, "q", 0),
                                 ("s", 0, "u", 0), ("t", 0, "u", 1)}


def test_connections_follow_loops_through_pseudoelements():
    for order in ("x -> q; q -> q", "q -> q; x -> q"):
        text = f"elementclass C {{ input -> output; input -> R; Src -> output }}\nq :: C; x :: X; {order}"
        assert connections(text) == {("x", 0, "q/R@1", 0), ("q/Src@2", 0, "q/R@1", 0)}


def test_repeated_connections_are_listed_once():
    flat = flatten("a :: A; b :: B; a -> b; a -> b; a -> (->) -> b")
    assert len(flat.connections) == 1


# --- variables


def test_variable_forms():
    text = "define($N 4, $W a b c); p :: P($N${N}0, ${W[1]}, ${NO-dflt}, ${NO}, '$N', \"$Q\", $(x.y))"
    assert elements(text, variables={"Q": 'say "hi"'})["p"][1] == \
        "440, b, dflt, ${NO}, '$N', \"say \\\"hi\\\"\", $(x.y)"


def test_command_line_variables_override_defines():
    assert elements("p :: P($A, $B); define($A file, $B file)",
                    variables={"A": "cmd", "$C": "unused"})["p"][1] == "cmd, file"


def test_variable_cycles_stop():
    assert elements("define($A <$B>, $B <$A>); p :: P($A)")["p"][1].startswith("<<<<")
    assert errors("define($A " + "$A" * 10 + ");\np :: P($A)") == [
        "t.click:2: configuration of 'p' longer than 1000000 characters once variables are expanded"]


def test_compound_variables_are_lexically_scoped():
    text = ("define($V global)\nelementclass Inner { input -> P($V) -> output }\n"
            "elementclass Outer { $V | define($L local_$V); input -> Inner -> Q($L) -> output }\n"
            "Idle -> Outer(mine) -> Discard")
    flat = elements(text)
    assert flat["Outer@2/Inner@1/P@1"] == ("P", "global")
    assert flat["Outer@2/Q@2"] == ("Q", "local_mine")


def test_parameter_defined_twice():
    assert errors("define($A 1);\nelementclass C { $x | define($x 2) }\ndefine($A 2)") == [
        "t.click:2: parameter '$x' multiply defined", "t.click:3: parameter '$A' multiply defined"]


# --- requirements


def test_requirements_and_libraries(tmp_path):
    (tmp_path / "lib.click").write_text(
        "elementclass Shaped { $r | input -> Shaper($r) -> output }\ndefine($RATE 5)\n")
    main = tmp_path / "main.click"
    main.write_text('require(package "p", other, compact_config, library lib.click);\n'
                    "require(library lib.click);\nIdle -> Shaped($RATE) -> Discard")
    flat = flatten(main.read_text(), str(main))
    assert flat.requirements == [("package", "p"), ("package", "other"), ("", "compact_config")]
    assert {e.name: e.config for e in flat.elements}["Shaped@2/Shaper@1"] == "5"


def test_library_errors():
    messages = errors("require(library missing.click)\nelementclass C { require(library x) }\n"
                      "require(package a b c)")
    assert messages == ["t.click:1: library 'missing.click' not found",
                        "t.click:2: 'require(library ...)' may only be used at file scope",
                        "t.click:3: bad requirement 'package a b c'"]


# --- errors together, limits


def test_every_mistake_is_reported_at_once():
    text = ("src :: Idle;\nsrc -> -> x;\nsrc :: Idle;\nelementclass C { $a | input -> output }\n"
            "src -> C -> Discard;\nbad :: Print(\"open;\n")
    # In click-flatten's order: line by line what reading finds, then what
    # expanding the compound finds.
    assert [m.split(": ", 1)[0] for m in errors(text)] == [
        "t.click:2", "t.click:3", "t.click:1", "t.click:7", "t.click:5", "t.click:4",
        "t.click:4"]


def test_nesting_and_size_limits(monkeypatch):
    assert "nested more than 100 deep" in errors("x -> " + "(" * 150 + ")" * 150)[0]
    chain = "elementclass C0 { input -> X -> output }\n" + "".join(
        f"elementclass C{i} {{ input -> C{i - 1} -> output }}\n" for i in range(1, 120))
    assert errors(chain + "Idle -> C119 -> Discard") == \
        ["t.click:21: compound elements nested more than 100 deep"]
    monkeypatch.setattr(limits, "MAX_ELEMENTS", 10)
    assert errors("elementclass T { input -> A -> B -> C -> output }\nx -> T -> T -> T -> T -> y") \
        == ["t.click:2: configuration expands to more than 10 elements"]


# --- unparse


def test_unparse_writes_declarations_then_connections():
    flat = flatten("require(package \"my pkg\"); a :: A(1); a [1] -> [2] b :: B; a -> b")
    assert unparse(flat) == ('require(package "my pkg");\n\na :: A(1);\nb :: B;\n\n'
                             "a -> b;\na [1] -> [2] b;\n")


def test_elements_come_in_clicks_order_a_scopes_own_then_each_compounds():
    # A scope's own elements first, then each compound instance's, in the
    # order the scope names them, depth first; o2 is copied from o.
    flat = flatten("elementclass In { input -> p :: P -> output }\n"
                   "elementclass Out { input -> q :: Q -> i :: In -> r :: R -> output }\n"
                   "src :: S -> o :: Out -> snk :: K;\n"
                   "o2 :: Out; S -> o2 -> K; S -> In -> K")
    assert [e.name for e in flat.elements] == [
        "src", "snk", "S@5", "K@6", "S@7", "K@9", "o/q", "o/r", "o/i/p",
        "o2/q", "o2/r", "o2/i/p", "In@8/p"]


def test_connections_are_sorted_by_their_input_end_then_their_output_end():
    flat = flatten("a :: A; b :: B; c :: C; c -> [1] b; a [1] -> b; c -> a; a -> b")
    assert [(c.from_element, c.from_port, c.to_element, c.to_port)
            for c in flat.connections] == [
        ("c", 0, "a", 0), ("a", 0, "b", 0), ("a", 1, "b", 0), ("c", 0, "b", 1)]


def test_unparse_joins_connections_through_port_0_into_chains():
    # b's output 0 goes on into d's input 0 rather than c's input 1; the
    # cycle d -> a -> b -> d starts at its first connection.
    flat = flatten("a :: A; b :: B; c :: C; d :: D; a -> b; b -> [1] c; b -> d; d -> a; "
                   "c [1] -> [2] c")
    assert unparse(flat).split("\n\n")[1] == (
        "b -> [1] c;\nc [1] -> [2] c;\nd -> a\n    -> b\n    -> d;\n")
    # Without a connection into port 0 to follow, the last one from output 0.
    flat = flatten("x :: X; y :: Y; x -> [2] y; x -> [1] y; s :: S -> x")
    assert unparse(flat).split("\n\n")[1] == "s -> x\n    -> [2] y;\nx -> [1] y;\n"
    assert unparse(flatten("require(compact_config, package p)")) == \
        "require(compact_config, package p);\n\n"


def test_unparse_keeps_a_config_ending_in_a_line_comment_readable():
    flat = flatten("a :: A($X)", variables={"X": "1 // note"})
    assert flatten(unparse(flat)).elements[0].config == "1 // note\n"


@pytest.mark.parametrize("many", [False, True])
def test_lists_without_port_lists_join_as_ports_are_stepped_through(many, monkeypatch):
    # Lists without port lists are joined without stepping through their ports:
    # the same connections as stepping gives, and the same mistakes left to it.
    def endpoints(first: int, count: int) -> list[joins.Endpoint]:
        return [joins.Endpoint(first + k, joins.NO_PORTS, joins.NO_PORTS) for k in range(count)]

    sizes = [(n, m) for n in range(1, 6) for m in range(1, 6)]
    quick = [joins.join(endpoints(0, n), endpoints(10, m), many) for n, m in sizes]
    monkeypatch.setattr(joins, "_without_ports", lambda *lists: None)
    stepped = [joins.join(endpoints(0, n), endpoints(10, m), many) for n, m in sizes]
    assert quick == stepped
    assert quick[sizes.index((1, 3))] == ([(0, 0, 10, 0), (0, 1 if many else 0, 11, 0),
                                           (0, 2 if many else 0, 12, 0)], [])


@pytest.mark.parametrize("text", [
    "Idle, Idle => c :: Counter -> Discard, Discard;",
    "a :: Idle; b :: Idle; a, b => m :: Mux -> s :: Tee(2) => x :: Q(1), y :: Q(2);",
    "x :: X; x, Y(1), z :: Z => W, w :: W(2), x2 :: X2;\nz -> Discard;",
    "a :: A; a, a -> b :: B; b, c :: C -> a, Idle;",
])
def test_lists_of_plain_elements_read_as_any_list(text, monkeypatch):
    # Lists of elements without ports, in chains, are read without the steps
    # only ports, groups and declarations alone need: the same graph and errors.
    from pyclick.lang import build

    def graph() -> tuple:
        try:
            flat = flatten(text, "t.click")
        except ConfigError as err:
            return tuple(err.messages)
        return ([(e.name, e.class_name, e.config) for e in flat.elements],
                sorted((c.from_element, c.from_port, c.to_element, c.to_port)
                       for c in flat.connections))

    quick = graph()
    monkeypatch.setattr(build, "_plain_item", lambda item: False)
    assert graph() == quick


# --- what the router would refuse, among the language's mistakes


def test_a_graph_check_runs_only_on_a_text_with_mistakes_and_comes_after_the_reading():
    seen = []

    def check(flat):
        seen.append([e.name for e in flat.elements])
        return ["t.click:1: first", "lib.click:9: elsewhere"]

    assert flatten("a :: A;\nb :: B -> a", "t.click", graph_check=check).elements
    assert seen == []
    text = "elementclass C { $x | input -> output }\na :: A;\nb :: B;\nb :: B;\nA -> C -> a"
    assert errors(text, graph_check=check) == [
        "t.click:4: redeclaration of element 'b'", "t.click:3: element 'b' previously declared here",
        "t.click:1: first", "lib.click:9: elsewhere",
        "t.click:5: no match for 'C[1 input, 1 output]'", "t.click:1: candidates are:",
        "t.click:1:   C(<arg>)[1 input, 1 output]"]
    assert seen == [["a", "b", "A@3"]]


def test_the_parsers_mistakes_come_among_the_readers_line_by_line():
    # Click's lines for the same text (click -q; click-flatten the same but
    # for the two arrows to nothing, which it does not report).
    text = "x :: Idle;\nIdle -> -> Discard;\nx :: Idle; y :: Idle; y :: Idle -> ;\nIdle -> ;\n"
    assert [m.split(": ", 1)[0] for m in errors(text)] == [
        "t.click:2", "t.click:3", "t.click:1", "t.click:3", "t.click:3", "t.click:3",
        "t.click:4"]

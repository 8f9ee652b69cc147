"""Packet classification: the pattern languages of Classifier and IPClassifier, compiled once.

- :mod:`pyclick.classify.tree`: tests on packet bytes, boolean formulas of
  them, where they are in a packet, and the nodes of decision trees;
- :mod:`pyclick.classify.expand`: the decision tree of a list of formulas
  (one per output), by Shannon expansion;
- :mod:`pyclick.classify.indexed`: a long list as lookups by the fields its
  patterns name, each value leading to a tree, placements among their ranges
  and bit vectors of ranges on several fields, the earliest pattern found
  deciding;
- :mod:`pyclick.classify.codegen`: decision trees written as Python
  functions;
- :mod:`pyclick.classify.compiled`: the steps together, and the compiled
  classification the elements hold;
- :mod:`pyclick.classify.rawpatterns`: Classifier's ``offset/value%mask``
  language;
- :mod:`pyclick.classify.ippatterns`: the tcpdump-like language of
  IPClassifier and IPFilter;
- :mod:`pyclick.classify.syntax`: a pattern's syntax as plain data (lark
  parses it) and :class:`~pyclick.classify.syntax.PatternError`;
- :mod:`pyclick.classify.syntaxcache`: the syntax of patterns read before,
  kept in the user's cache directory, so that lark is loaded only for
  patterns never seen.

A configuration is parsed and compiled once, at configure time; a packet
costs one walk down the tree, never a pattern interpretation.
"""

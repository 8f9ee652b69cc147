"""Packet classification: the pattern languages of Classifier and IPClassifier, compiled once.

- :mod:`pyclick.classify.tree`: tests on packet bytes, boolean formulas of
  them, and the compiler that turns a list of formulas (one per output)
  into a decision tree, then into a Python function;
- :mod:`pyclick.classify.rawpatterns`: Classifier's ``offset/value%mask``
  language;
- :mod:`pyclick.classify.ippatterns`: the tcpdump-like language of
  IPClassifier and IPFilter.

A configuration is parsed and compiled once, at configure time; a packet
costs one walk down the tree, never a pattern interpretation.
"""

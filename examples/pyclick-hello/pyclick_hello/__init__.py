"""pyclick-hello: an example plugin package for pyclick."""

from pyclick_hello.elements import Hello, HelloTagger

__all__ = ["Hello", "HelloTagger"]

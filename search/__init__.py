"""glimpse search: natural-language queries over an index built by `indexer`."""

from .engine import Hit, Searcher, SearchResults

__all__ = ["Hit", "SearchResults", "Searcher"]

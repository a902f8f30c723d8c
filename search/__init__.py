"""glimpse search: natural-language queries over an index built by `indexer`."""

from glimpse.indexer.types import Filters

from .engine import Hit, Searcher, SearchResults

__all__ = ["Filters", "Hit", "SearchResults", "Searcher"]

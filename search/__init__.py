"""glimpse search: natural-language queries over an index built by `indexer`."""

from .engine import Hit, Searcher, SearchResults
from .filters import Filters

__all__ = ["Filters", "Hit", "SearchResults", "Searcher"]

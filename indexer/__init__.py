"""glimpse indexer: turn a folder of photos into a searchable caption index."""

__version__ = "0.1.0"

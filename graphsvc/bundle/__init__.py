"""Bundles: the CSV/zip/xlsx exchange format of ``spec/DATA_FORMAT.md``."""

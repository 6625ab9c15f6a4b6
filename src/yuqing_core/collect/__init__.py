"""The collect stage: fetch public feeds, parse, normalize and store each item once."""

from yuqing_core.collect.archive import ArchiveImportSummary, import_archive
from yuqing_core.collect.fetch import Fetcher, FetchError, FetchResult
from yuqing_core.collect.normalize import ItemRecord, normalize_entries
from yuqing_core.collect.parse import FeedParseError, ParsedFeed, parse_feed
from yuqing_core.collect.service import (
    Collector,
    SourceRef,
    SourceResult,
    collect_source,
    due_sources,
    ingest_document,
)
from yuqing_core.collect.sources import ImportSummary, import_sources, list_sources, load_sources_file, set_enabled

__all__ = [
    "ArchiveImportSummary",
    "Collector",
    "FeedParseError",
    "FetchError",
    "FetchResult",
    "Fetcher",
    "ImportSummary",
    "ItemRecord",
    "ParsedFeed",
    "SourceRef",
    "SourceResult",
    "collect_source",
    "due_sources",
    "import_archive",
    "import_sources",
    "ingest_document",
    "list_sources",
    "load_sources_file",
    "normalize_entries",
    "parse_feed",
    "set_enabled",
]

"""Dagster resources: thin wrappers over the store and the extraction backends."""

from timetable_platform.resources.extraction import InterpretationResource, LayoutExtractionResource
from timetable_platform.resources.store import StoreResource, forget_cached_stores

__all__ = ["InterpretationResource", "LayoutExtractionResource", "StoreResource", "forget_cached_stores"]

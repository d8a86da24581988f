"""The error catalogue: known Azure Migrate and Azure Backup errors, as validated data."""

from remediation.catalogue.loader import (
    Automation,
    Catalogue,
    CatalogueError,
    Entry,
    Localized,
    Pattern,
    Source,
    Symptom,
    default_catalogue,
    load_catalogue,
)

__all__ = [
    "Automation",
    "Catalogue",
    "CatalogueError",
    "Entry",
    "Localized",
    "Pattern",
    "Source",
    "Symptom",
    "default_catalogue",
    "load_catalogue",
]

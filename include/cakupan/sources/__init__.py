"""Source systems: contracts, readers, extraction and API clients."""

"""De-duplication: fingerprints, the SimHash index, the first-copy decision."""

"""Service coverage (issue 4): service areas, per-grid coverage, gaps and siting suggestions."""

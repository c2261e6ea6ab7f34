"""Service coverage (issue 4): service areas, per-grid coverage, gaps and siting suggestions."""

# The one rule for which 5-minute areas count as coverage where a caller does not choose: the walking
# network's where computed, else the straight-line circles; NULL when none are (lookups, plan previews).
FIVE_MINUTE_BASIS = """CASE WHEN EXISTS (SELECT 1 FROM service_areas WHERE minutes = 5 AND mode = 'network')
                                 THEN 'network'
                            WHEN EXISTS (SELECT 1 FROM service_areas WHERE minutes = 5) THEN 'circle' END"""

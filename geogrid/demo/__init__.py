"""The demo city: a fictional street office in 海淀区, Beijing, generated deterministically by our own code.

``load_demo(conn, buildings=None, seed=7)`` writes it with COPY in the caller's transaction; see
``geogrid.demo.load`` for what it contains and ``DemoSummary`` for where its deliberate edge cases are.
"""

from geogrid.demo.load import PEOPLE_MAX_BUILDINGS, DemoSummary, load_demo

__all__ = ["PEOPLE_MAX_BUILDINGS", "DemoSummary", "load_demo"]

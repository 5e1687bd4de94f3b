"""graphsvc: who supports whom in a county, as a graph.

Two support networks (the three-contact chain and unit-village pairing) kept in
Neo4j or in an embedded store (SQLite + NetworkX), imported and exported as
bundles of CSV files.
"""

__version__ = "0.1.0"

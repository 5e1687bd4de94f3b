"""Analyses beyond the coverage rules (issue 6), each on both stores: Cypher on Neo4j,
NetworkX on the embedded store, held equal by tests.

- ``risks``: single points of failure, every person's impact at once;
- ``repair``: who should take over uncovered households (an assignment problem);
- ``requests``: households' requests routed up the chain, escalating when overdue;
- ``trends``: coverage over time, set-wise.
"""

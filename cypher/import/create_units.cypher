// New units, each HAS_ORGANIZATION its Party organisation.
UNWIND $rows AS row
CREATE (n:Unit:Entity)
SET n = row
WITH n, row
CALL (n, row) { MATCH (o:Organization {id: row.organization_id}) CREATE (n)-[:HAS_ORGANIZATION]->(o) }

// Upsert units by id, each HAS_ORGANIZATION its Party organisation.
UNWIND $rows AS row
MERGE (n:Unit {id: row.id})
SET n = row, n:Entity
WITH n, row
CALL (n) { MATCH (n)-[old:HAS_ORGANIZATION]->() DELETE old }
CALL (n, row) { MATCH (o:Organization {id: row.organization_id}) CREATE (n)-[:HAS_ORGANIZATION]->(o) }

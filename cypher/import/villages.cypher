// Upsert villages by id, each IN_TOWNSHIP its township.
UNWIND $rows AS row
MERGE (n:Village {id: row.id})
SET n = row, n:Entity
WITH n, row
CALL (n) { MATCH (n)-[old:IN_TOWNSHIP]->() DELETE old }
CALL (n, row) { MATCH (t:Township {id: row.township_id}) CREATE (n)-[:IN_TOWNSHIP]->(t) }

// Upsert households by id, each IN_VILLAGE its village.
UNWIND $rows AS row
MERGE (n:Household {id: row.id})
SET n = row, n:Entity
WITH n, row
CALL (n) { MATCH (n)-[old:IN_VILLAGE]->() DELETE old }
CALL (n, row) { MATCH (v:Village {id: row.village_id}) CREATE (n)-[:IN_VILLAGE]->(v) }

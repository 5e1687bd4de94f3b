// Upsert organisations by id with their township and village; parents come in organization_parents.
UNWIND $rows AS row
MERGE (n:Organization {id: row.id})
SET n = row, n:Entity
WITH n, row
CALL (n) { MATCH (n)-[old:IN_TOWNSHIP|IN_VILLAGE]->() DELETE old }
CALL (n, row) { MATCH (t:Township {id: row.township_id}) CREATE (n)-[:IN_TOWNSHIP]->(t) }
CALL (n, row) { MATCH (v:Village {id: row.village_id}) CREATE (n)-[:IN_VILLAGE]->(v) }

// New organisations with their township and village; parents come in organization_parents.
UNWIND $rows AS row
CREATE (n:Organization:Entity)
SET n = row
WITH n, row
CALL (n, row) { MATCH (t:Township {id: row.township_id}) CREATE (n)-[:IN_TOWNSHIP]->(t) }
CALL (n, row) { MATCH (v:Village {id: row.village_id}) CREATE (n)-[:IN_VILLAGE]->(v) }

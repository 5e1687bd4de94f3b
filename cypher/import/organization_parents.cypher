// After every organisation of the bundle exists: each one PART_OF its parent.
UNWIND $rows AS row
MATCH (n:Organization {id: row.id})
CALL (n) { MATCH (n)-[old:PART_OF]->() DELETE old }
CALL (n, row) { MATCH (p:Organization {id: row.parent_id}) CREATE (n)-[:PART_OF]->(p) }

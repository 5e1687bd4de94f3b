// Upsert townships by id.
UNWIND $rows AS row
MERGE (n:Township {id: row.id})
SET n = row, n:Entity

// Which of $ids are stored already (the import CREATEs the others).
UNWIND $ids AS id
MATCH (n:Entity {id: id})
RETURN n.id AS key

// Whether the store holds any record (an empty store needs no existence checks).
RETURN EXISTS { MATCH (n:Entity) } AS any

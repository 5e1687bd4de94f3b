// Inside every import transaction: a new random data version, committed with the data.
// Random rather than a counter, so that a replaced or restored database never repeats a
// version a cache has seen. The node takes the transaction's write lock on it, so concurrent
// imports commit one after the other. GraphsvcMeta.id is unique (schema.cypher).
MERGE (m:GraphsvcMeta {id: 'data'})
SET m.version = randomUUID(), m.changed_at = datetime()

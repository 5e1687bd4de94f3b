// Inside every import transaction, first: a new random data version, committed with the data.
// Random rather than a counter, so that a replaced or restored database never repeats a
// version a cache has seen. Setting changed_at takes the write lock of the node before the
// version is read, so concurrent imports commit one after the other and `before` is the
// version this write follows (graphsvc.stores.kept mends its results from it to `after`).
// GraphsvcMeta.id is unique (schema.cypher).
MERGE (m:GraphsvcMeta {id: 'data'})
SET m.changed_at = datetime()
WITH m, coalesce(m.version, '') AS before
SET m.version = randomUUID()
RETURN before, m.version AS after

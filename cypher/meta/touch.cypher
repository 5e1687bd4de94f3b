// Inside every import transaction, first: a new random data version, committed with the data.
// Random rather than a counter, so that a replaced or restored database never repeats a
// version a cache has seen. Setting changed_at takes the write lock of the node before the
// version is read, so concurrent imports commit one after the other and `before` is the
// version this write follows. `seq` numbers the write's entry in the change log
// (meta/change_append); `tally_dates` are the dates whose county numbers it records its change
// of (meta/count_date). GraphsvcMeta.id is unique (schema.cypher).
MERGE (m:GraphsvcMeta {id: 'data'})
SET m.changed_at = datetime()
WITH m, coalesce(m.version, '') AS before
SET m.version = randomUUID(), m.seq = coalesce(m.seq, 0) + 1
RETURN before, m.version AS after, m.seq AS seq, coalesce(m.tally_dates, []) AS tally_dates

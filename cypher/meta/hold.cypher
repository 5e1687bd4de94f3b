// Inside a write's transaction: the write lock of the data version node, held until the
// commit, so that no other write commits meanwhile. Taken first by a large import (which locks
// no records) and by a small write creating a record (meta/tally cannot lock what is not there
// yet); every other write takes it only in meta/commit. GraphsvcMeta.id is unique
// (schema.cypher).
MERGE (m:GraphsvcMeta {id: 'data'})
SET m.changed_at = datetime()
RETURN coalesce(m.tally_dates, []) AS tally_dates

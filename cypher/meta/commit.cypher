// Inside every write's transaction, last: a new data version, committed with the data, and
// the write's entry in the change log, which every process reads (meta/changes) to mend what
// it derived from the data instead of computing it again. Setting changed_at takes the write
// lock of the data version node (held until the commit), so writes commit one after the other
// and `before` is the version this write follows; it is the only statement a small write runs
// under that lock. The version ($after) is random rather than a counter, so that a replaced or
// restored database never repeats a version a cache has seen.
// The entry: the versions before and after; the ids of the people and households the write
// wrote or linked ($ids; the readers walk from them to the rows they can change,
// meta/changes); how it changed the county's numbers on the kept dates ($deltas, JSON, null
// when not known, or when a write that locks no records committed since this one read them:
// $unlocked is the number it read, null for a write that held this lock from the start);
// $everything: anything may have changed (an import, a replace, a refresh). Also, the stamp of
// the records written ($stamped, graphsvc.auditlog.version) and the audit log entry ($audit,
// null for none). Entries $keep writes old are pruned here.
// GraphsvcChange.seq and GraphsvcChange.after are unique, as AuditEntry.id (schema.cypher).
MERGE (m:GraphsvcMeta {id: 'data'})
SET m.changed_at = datetime()
WITH m, coalesce(m.version, '') AS before, coalesce(m.seq, 0) + 1 AS seq,
     coalesce(m.unlocked, 0) AS unlocked
SET m.version = $after, m.seq = seq,
    m.unlocked = CASE WHEN $locks_records THEN unlocked ELSE seq END
CREATE (c:GraphsvcChange {seq: seq, before: before, after: $after, everything: $everything,
                          ids: $ids,
                          deltas: CASE WHEN $unlocked IS NULL OR $unlocked = unlocked
                                       THEN $deltas END})
WITH c, seq, before
CALL (seq) {
  MATCH (old:GraphsvcChange) WHERE old.seq <= seq - $keep
  DETACH DELETE old
}
CALL () {
  UNWIND $stamped AS id
  MATCH (n:Entity {id: id})
  SET n._stamp = $after
}
CALL () {
  UNWIND CASE WHEN $audit IS NULL THEN [] ELSE [$audit] END AS row
  CREATE (:AuditEntry {id: row.id, at: row.at, key_id: row.key_id, action: row.action,
                       subjects: row.subjects, entry: row.entry})
}
RETURN before, seq

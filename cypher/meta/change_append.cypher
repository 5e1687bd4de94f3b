// Inside a write's transaction, last: its entry in the change log, which every process reads
// (meta/changes) to mend what it derived from the data instead of computing it again. The
// versions before and after the write; the households and people whose status or audit rows
// it can change (meta/affected); how it changed the county's numbers on the kept dates (JSON,
// null when not known); `everything`: anything may have changed (an import, a replace, a
// refresh). Entries $keep writes old are pruned in the same transaction.
// GraphsvcChange.seq and GraphsvcChange.after are unique (schema.cypher).
CREATE (c:GraphsvcChange {seq: $seq, before: $before, after: $after, everything: $everything,
                          household_ids: $household_ids, person_ids: $person_ids,
                          deltas: $deltas})
WITH c
CALL () {
  MATCH (old:GraphsvcChange) WHERE old.seq <= $seq - $keep
  DETACH DELETE old
}
RETURN c.seq AS seq

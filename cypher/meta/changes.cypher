// The change log after the data version $since (meta/change_append), in one read: the version
// now, whether $since is still in the log, and every entry after it in the order written.
OPTIONAL MATCH (m:GraphsvcMeta {id: 'data'})
OPTIONAL MATCH (s:GraphsvcChange {after: $since})
CALL (s) {
  OPTIONAL MATCH (c:GraphsvcChange)
  WHERE s IS NOT NULL AND c.seq > s.seq
  WITH c ORDER BY c.seq
  RETURN collect(c {.before, .after, .everything, .household_ids, .person_ids,
                    .deltas}) AS changes
}
RETURN coalesce(m.version, '') AS version, s IS NOT NULL AS found, changes

// The change log after the data version $since (meta/commit), in one read: the version now,
// whether $since is still in the log, every entry after it in the order written, and the
// households and people whose status rows or audit rows those writes can change, walked from
// the ids the entries name (up to $limit of them; more: not walked, everything is computed
// again). graphsvc.stores.incremental.affected is the same walk:
// households: those among the ids, and those up to three liaisons below a person among them;
// people: those among the ids, those up to three liaisons above any of them, and those one
// liaison below a person among them. Liaisons of any date, and walked now, after the writes:
// liaisons are never deleted, only ended, so the graph holds every link each write saw, and
// the walk finds every row any of them could change.
OPTIONAL MATCH (m:GraphsvcMeta {id: 'data'})
OPTIONAL MATCH (s:GraphsvcChange {after: $since})
CALL (s) {
  OPTIONAL MATCH (c:GraphsvcChange)
  WHERE s IS NOT NULL AND c.seq > s.seq
  WITH c ORDER BY c.seq
  RETURN collect(c {.before, .after, .everything, .ids, .household_ids, .person_ids,
                    .deltas}) AS changes
}
WITH m, s, changes, reduce(acc = [], c IN changes | acc + coalesce(c.ids, [])) AS written
CALL (written) {
  UNWIND CASE WHEN size(written) <= $limit THEN written ELSE [] END AS id
  OPTIONAL MATCH (p:Person {id: id})
  OPTIONAL MATCH (h:Household {id: id})
  RETURN collect(DISTINCT p) AS people, collect(DISTINCT h) AS households
}
CALL (people) {
  UNWIND people AS p
  MATCH (p)-[:LIAISES_WITH_DELEGATE|LIAISES_WITH_MEMBER|LIAISES_WITH_HOUSEHOLD*1..3]->(h:Household)
  RETURN collect(DISTINCT h.id) AS below
}
CALL (people, households) {
  UNWIND people + households AS n
  MATCH (a:Person)-[:LIAISES_WITH_DELEGATE|LIAISES_WITH_MEMBER|LIAISES_WITH_HOUSEHOLD*1..3]->(n)
  RETURN collect(DISTINCT a.id) AS above
}
CALL (people) {
  UNWIND people AS p
  MATCH (p)-[:LIAISES_WITH_DELEGATE|LIAISES_WITH_MEMBER]->(x:Person)
  RETURN collect(DISTINCT x.id) AS next
}
RETURN coalesce(m.version, '') AS version, s IS NOT NULL AS found, changes,
       size(written) > $limit AS too_many,
       [h IN households | h.id] + below AS household_ids,
       [p IN people | p.id] + above + next AS person_ids

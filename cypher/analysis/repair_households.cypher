// The uncovered households of the whole county on $as_of (Store.repair_households), for repair plans
// (the same rows as rules/household_statuses with status 'uncovered', cut to what a plan needs:
// household_id, village_id, township_id, categories, member_ids; ordered in Python). Set-wise,
// top-down: the households some whole chain holds (active committee member -> active delegate
// -> active member -> household, liaisons counting, roles as stored) are marked, and the active
// households never marked are the uncovered ones.
CALL () {
  MATCH (h:Household)
  RETURN h, 0 AS held
  UNION ALL
  MATCH (c:Person)-[k:LIAISES_WITH_DELEGATE]->(d:Person)
  WHERE (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
    AND 'committee_member' IN c.roles
    AND (c.status = 'active' OR (c.inactive_since IS NOT NULL AND $as_of < c.inactive_since))
    AND 'delegate' IN d.roles
    AND (d.status = 'active' OR (d.inactive_since IS NOT NULL AND $as_of < d.inactive_since))
  WITH DISTINCT d
  MATCH (d)-[l:LIAISES_WITH_MEMBER]->(m:Person)
  WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
    AND (m.status = 'active' OR (m.inactive_since IS NOT NULL AND $as_of < m.inactive_since))
  WITH DISTINCT m
  MATCH (m)-[r:LIAISES_WITH_HOUSEHOLD]->(h:Household)
  WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
  RETURN h, 1 AS held
}
WITH h, max(held) AS held
WHERE held = 0
  AND (h.status = 'active' OR (h.inactive_since IS NOT NULL AND $as_of < h.inactive_since))
// one row holding every household (a result of many rows comes in batches, a round trip each)
RETURN collect({
         household_id: h.id, village_id: h.village_id,
         township_id: COLLECT { MATCH (v:Village {id: h.village_id}) RETURN v.township_id }[0],
         categories: coalesce(h.categories, []),
         member_ids: COLLECT {
           MATCH (m)-[r:LIAISES_WITH_HOUSEHOLD]->(h)
           WHERE (r.since IS NULL OR r.since <= $as_of) AND (r.until IS NULL OR $as_of < r.until)
           RETURN DISTINCT m.id
         }
       }) AS households

// Every active household's status on $as_of: graphsvc.rules.household_statuses, scoped,
// filtered, ordered and paged in one statement.
// Scope: $household_ids (a list of distinct ids, or null), else the households that the people
// $member_ids (a list, or null) have a member-household liaison with (at any time), else
// $village_id, else $township_id, else all; $village_id and $township_id also narrow any scope (a household by its village's
// township).
// $excluded: a person id treated as inactive (impact: "if this person left"), or null.
// Filters $status, $reason, $focus_only choose the rows counted in `total` and paged by
// $offset/$limit ($limit null: to the end). The counts by status and by reason are over the
// scoped households before those filters (for the summary); with $counts false the counts of
// covered and stale are null, and the latest contact is looked up only where a row's status
// is needed (by the filters) and for the rows of the page.
CALL () {
  UNWIND $household_ids AS hid
  MATCH (h:Household {id: hid})
  OPTIONAL MATCH (h)-[:IN_VILLAGE]->(v:Village)
  RETURN h, v
  UNION ALL
  UNWIND CASE WHEN $household_ids IS NULL AND $member_ids IS NOT NULL THEN [1] ELSE [] END AS below
  UNWIND $member_ids AS mid
  MATCH (:Person {id: mid})-[:LIAISES_WITH_HOUSEHOLD]->(h:Household)
  WITH DISTINCT h
  OPTIONAL MATCH (h)-[:IN_VILLAGE]->(v:Village)
  RETURN h, v
  UNION ALL
  UNWIND CASE WHEN $household_ids IS NULL AND $member_ids IS NULL AND $village_id IS NOT NULL
              THEN [$village_id] ELSE [] END AS vid
  MATCH (v:Village {id: vid})<-[:IN_VILLAGE]-(h:Household)
  RETURN h, v
  UNION ALL
  UNWIND CASE WHEN $household_ids IS NULL AND $member_ids IS NULL AND $village_id IS NULL
              AND $township_id IS NOT NULL
              THEN [1] ELSE [] END AS township
  MATCH (v:Village) WHERE v.township_id = $township_id
  MATCH (v)<-[:IN_VILLAGE]-(h:Household)
  RETURN h, v
  UNION ALL
  UNWIND CASE WHEN $household_ids IS NULL AND $member_ids IS NULL AND $village_id IS NULL
              AND $township_id IS NULL
              THEN [1] ELSE [] END AS everyone
  MATCH (h:Household)
  WHERE h.status = 'active' OR (h.inactive_since IS NOT NULL AND $as_of < h.inactive_since)
  MATCH (h)-[:IN_VILLAGE]->(v:Village)
  RETURN h, v
}
WITH h, v
WHERE (h.status = 'active' OR (h.inactive_since IS NOT NULL AND $as_of < h.inactive_since))
  AND ($village_id IS NULL OR h.village_id = $village_id)
  AND ($township_id IS NULL OR v.township_id = $township_id)
// 1. members with a counting member-household liaison (sorted by id later, for the page only)
CALL (h) {
  MATCH (m)-[l:LIAISES_WITH_HOUSEHOLD]->(h)
  WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
  RETURN collect(DISTINCT m) AS members
}
// 2. the active ones
WITH h, v, members,
     [m IN members WHERE (m.status = 'active' OR (m.inactive_since IS NOT NULL AND $as_of < m.inactive_since))
                         AND ($excluded IS NULL OR m.id <> $excluded)] AS active_members
WITH collect({h: h, v: v, members: members, active_members: active_members}) AS households
// 3. those of the active members with an active delegate above, and 4. those with an active
// delegate who has an active committee member above; each member and delegate looked at once
CALL (households) {
  UNWIND households AS row
  UNWIND row.active_members AS m
  WITH DISTINCT m
  MATCH (d)-[l:LIAISES_WITH_MEMBER]->(m)
  WHERE (l.since IS NULL OR l.since <= $as_of) AND (l.until IS NULL OR $as_of < l.until)
    AND 'delegate' IN d.roles
    AND (d.status = 'active' OR (d.inactive_since IS NOT NULL AND $as_of < d.inactive_since))
    AND ($excluded IS NULL OR d.id <> $excluded)
  WITH d, collect(m) AS below
  WITH below, EXISTS {
    MATCH (c)-[k:LIAISES_WITH_DELEGATE]->(d)
    WHERE (k.since IS NULL OR k.since <= $as_of) AND (k.until IS NULL OR $as_of < k.until)
      AND 'committee_member' IN c.roles
      AND (c.status = 'active' OR (c.inactive_since IS NOT NULL AND $as_of < c.inactive_since))
      AND ($excluded IS NULL OR c.id <> $excluded)
  } AS anchored
  UNWIND below AS m
  WITH m, max(CASE WHEN anchored THEN 1 ELSE 0 END) AS anchored
  RETURN collect(m) AS delegated, collect(CASE WHEN anchored = 1 THEN m END) AS anchored
}
UNWIND households AS row
WITH row, row.h AS h,
     size([c IN coalesce(row.h.categories, []) WHERE c IN $focus_categories]) AS focus_count,
     CASE WHEN size(row.members) = 0 THEN 'no_member'
          WHEN size(row.active_members) = 0 THEN 'member_inactive'
          WHEN none(m IN row.active_members WHERE m IN delegated) THEN 'no_delegate'
          WHEN none(m IN row.active_members WHERE m IN anchored) THEN 'no_committee_member' END AS reason
// 5. covered, or stale when not contacted within $stale_after_days: the latest contact on or
// before $as_of, by anyone, looked up where the status is needed (covered and stale rows match
// no filter on 'uncovered'; without $counts they are not counted)
WITH row, h, focus_count, reason,
     reason IS NULL AND ($counts OR $status IS NULL OR $status <> 'uncovered') AS looked
CALL (h, looked) {
  WITH h WHERE looked
  MATCH ()-[c:CONTACTED]->(h)
  WHERE c.date <= $as_of
  RETURN max(c.date) AS last_contact
}
WITH row, h, focus_count, reason, looked, last_contact,
     CASE WHEN reason IS NOT NULL THEN 'uncovered'
          WHEN last_contact IS NULL
               OR duration.inDays(last_contact, $as_of).days > $stale_after_days THEN 'stale'
          ELSE 'covered' END AS status
WITH row, h, focus_count, reason, status, looked, last_contact,
     ($status IS NULL OR status = $status) AND ($reason IS NULL OR reason = $reason)
       AND (NOT $focus_only OR focus_count > 0) AS matches
WITH count(CASE WHEN matches THEN 1 END) AS total,
     collect(CASE WHEN matches AND ($limit IS NULL OR $limit <> 0)
                  THEN [row, status, reason, focus_count, h.id, looked, last_contact] END) AS matching,
     CASE WHEN $counts THEN count(CASE status WHEN 'covered' THEN 1 END) END AS covered,
     CASE WHEN $counts THEN count(CASE status WHEN 'stale' THEN 1 END) END AS stale,
     count(CASE status WHEN 'uncovered' THEN 1 END) AS uncovered,
     count(CASE reason WHEN 'no_member' THEN 1 END) AS no_member,
     count(CASE reason WHEN 'member_inactive' THEN 1 END) AS member_inactive,
     count(CASE reason WHEN 'no_delegate' THEN 1 END) AS no_delegate,
     count(CASE reason WHEN 'no_committee_member' THEN 1 END) AS no_committee_member
// the matching rows in the household order: more focus categories first, then by id (none
// collected when the page is empty, as for the summary's counts)
CALL (matching) {
  UNWIND matching AS x
  WITH x ORDER BY x[3] DESC, x[4]
  RETURN collect(x) AS rows
}
// the page, as rows of graphsvc.rules.household_statuses
CALL (rows) {
  UNWIND CASE WHEN $limit IS NULL THEN rows[$offset..] ELSE rows[$offset..$offset + $limit] END AS x
  WITH x[0] AS row, x[1] AS status, x[2] AS reason, x[3] AS focus_count, x[5] AS looked,
       x[6] AS looked_up
  CALL (row, looked) {
    WITH row.h AS h WHERE NOT looked
    MATCH ()-[c:CONTACTED]->(h)
    WHERE c.date <= $as_of
    RETURN max(c.date) AS last_contact
  }
  RETURN collect({household_id: row.h.id, village_id: row.h.village_id, township_id: row.v.township_id,
                  categories: coalesce(row.h.categories, []), focus: focus_count > 0,
                  status: status, reason: reason,
                  last_contact: CASE WHEN looked THEN looked_up ELSE last_contact END,
                  member_ids: COLLECT { UNWIND row.members AS m RETURN m.id AS id ORDER BY id }}) AS page
}
RETURN total, page,
       covered, stale, uncovered, no_member, member_inactive, no_delegate, no_committee_member

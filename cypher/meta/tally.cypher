// Inside a small write's transaction, before and after it: what the records $ids add to the
// county's numbers (graphsvc.summary.tally, the same counts), a row per date (`day`, ISO).
// A record counts itself; a household also its supports and contacts; a unit its pairings
// and whether it is paired; a village whether it is paired. The county's numbers change by
// the difference (meta/commit).
// First, the write locks of the records $lock (those the write writes, links or counts,
// sorted; [] after the write), taken by setting and removing a property (the Cypher
// manual's way to lock a node) and held until the commit: two writes of one record, or of one
// household's contacts, run one after the other; writes of different records run side by
// side until meta/commit. `found`: those of $lock that exist (a new record has nothing to
// lock yet: the write then takes meta/hold and counts again). The dates: $dates, or when null
// the dates whose county numbers every write records its change of (meta/count_date).
// `unlocked`: the number of the last write that took no record locks (a large import:
// meta/commit drops this write's numbers if one committed meanwhile). With no date, one row
// whose `day` is null.
CALL () {
  UNWIND $lock AS id
  MATCH (n:Entity {id: id})
  SET n._lock = true
  REMOVE n._lock
}
CALL () {
  UNWIND $lock AS id
  MATCH (n:Entity {id: id})
  RETURN collect(n.id) AS found
}
OPTIONAL MATCH (m:GraphsvcMeta {id: 'data'})
WITH found, coalesce(m.unlocked, 0) AS unlocked, coalesce($dates, m.tally_dates, []) AS dates
UNWIND CASE WHEN size(dates) = 0 THEN [null] ELSE dates END AS day
WITH found, unlocked, day, date(day) AS asOf
CALL () {
  UNWIND $ids AS id
  MATCH (t:Township {id: id})
  RETURN count(t) AS townships
}
CALL (asOf) {
  UNWIND $ids AS id
  MATCH (v:Village {id: id})
  RETURN count(v) AS villages, count(CASE WHEN v.needs_pairing THEN 1 END) AS villages_needing_pairing,
         count(CASE WHEN EXISTS {
           MATCH (:Unit)-[r:PAIRED_WITH]->(v)
           WHERE (r.since IS NULL OR r.since <= asOf) AND (r.until IS NULL OR asOf < r.until)
         } THEN 1 END) AS paired_villages
}
CALL () {
  UNWIND $ids AS id
  MATCH (o:Organization {id: id})
  RETURN count(CASE o.kind WHEN 'committee' THEN 1 END) AS org_committee,
         count(CASE o.kind WHEN 'general_branch' THEN 1 END) AS org_general_branch,
         count(CASE o.kind WHEN 'branch' THEN 1 END) AS org_branch
}
CALL (asOf) {
  UNWIND $ids AS id
  MATCH (u:Unit {id: id})
  CALL (u, asOf) {
    OPTIONAL MATCH (u)-[r:PAIRED_WITH]->(:Village)
    WHERE (r.since IS NULL OR r.since <= asOf) AND (r.until IS NULL OR asOf < r.until)
    RETURN count(r) AS paired
  }
  RETURN count(CASE u.sector WHEN 'agency' THEN 1 END) AS unit_agency,
         count(CASE u.sector WHEN 'institution' THEN 1 END) AS unit_institution,
         count(CASE u.sector WHEN 'enterprise' THEN 1 END) AS unit_enterprise,
         sum(paired) AS pairings, count(CASE WHEN paired > 0 THEN 1 END) AS paired_units
}
CALL (asOf) {
  UNWIND $ids AS id
  MATCH (p:Person {id: id})
  WHERE p.status = 'active' OR (p.inactive_since IS NOT NULL AND asOf < p.inactive_since)
  RETURN count(p) AS people,
         count(CASE WHEN 'committee_member' IN p.roles THEN 1 END) AS committee_members,
         count(CASE WHEN 'delegate' IN p.roles THEN 1 END) AS delegates,
         count(CASE WHEN 'cadre' IN p.roles THEN 1 END) AS cadres,
         count(CASE WHEN p.hardship THEN 1 END) AS members_in_hardship
}
CALL (asOf) {
  UNWIND $ids AS id
  MATCH (h:Household {id: id})
  WHERE h.status = 'active' OR (h.inactive_since IS NOT NULL AND asOf < h.inactive_since)
  CALL (h, asOf) {
    MATCH (:Person)-[r:SUPPORTS]->(h)
    WHERE (r.since IS NULL OR r.since <= asOf) AND (r.until IS NULL OR asOf < r.until)
    RETURN count(r) AS supports
  }
  CALL (h, asOf) {
    MATCH (:Person)-[c:CONTACTED]->(h)
    WHERE c.date <= asOf
    RETURN count(c) AS contacts,
           count(CASE WHEN c.request IS NOT NULL THEN 1 END) AS requests_raised,
           count(CASE WHEN c.request IS NOT NULL AND c.resolved THEN 1 END) AS requests_resolved
  }
  RETURN count(h) AS households,
         count(CASE WHEN any(c IN h.categories WHERE c IN $focus_categories) THEN 1 END) AS focus_households,
         count(CASE WHEN 'military_martyr' IN h.categories THEN 1 END) AS cat_military_martyr,
         count(CASE WHEN 'extreme_poverty' IN h.categories THEN 1 END) AS cat_extreme_poverty,
         count(CASE WHEN 'empty_nest_elderly' IN h.categories THEN 1 END) AS cat_empty_nest_elderly,
         count(CASE WHEN 'poor' IN h.categories THEN 1 END) AS cat_poor,
         sum(supports) AS supports, sum(contacts) AS contacts,
         sum(requests_raised) AS requests_raised, sum(requests_resolved) AS requests_resolved
}
RETURN found, unlocked, day, townships, villages, villages_needing_pairing,
       org_committee, org_general_branch, org_branch,
       unit_agency, unit_institution, unit_enterprise,
       people, committee_members, delegates, cadres, members_in_hardship,
       households, focus_households,
       cat_military_martyr, cat_extreme_poverty, cat_empty_nest_elderly, cat_poor,
       pairings, paired_units, paired_villages, supports, contacts, requests_raised, requests_resolved

// The county in numbers on $as_of; must equal graphsvc.summary.summarize on the same data.
WITH $as_of AS asOf
CALL () {
  MATCH (t:Township) RETURN count(t) AS townships
}
CALL () {
  MATCH (v:Village)
  RETURN count(v) AS villages, count(CASE WHEN v.needs_pairing THEN 1 END) AS villages_needing_pairing
}
CALL () {
  MATCH (o:Organization)
  RETURN count(CASE o.kind WHEN 'committee' THEN 1 END) AS org_committee,
         count(CASE o.kind WHEN 'general_branch' THEN 1 END) AS org_general_branch,
         count(CASE o.kind WHEN 'branch' THEN 1 END) AS org_branch
}
CALL () {
  MATCH (u:Unit)
  RETURN count(CASE u.sector WHEN 'agency' THEN 1 END) AS unit_agency,
         count(CASE u.sector WHEN 'institution' THEN 1 END) AS unit_institution,
         count(CASE u.sector WHEN 'enterprise' THEN 1 END) AS unit_enterprise
}
CALL (asOf) {
  MATCH (p:Person)
  WHERE p.status = 'active' OR (p.inactive_since IS NOT NULL AND asOf < p.inactive_since)
  RETURN count(p) AS people,
         count(CASE WHEN 'committee_member' IN p.roles THEN 1 END) AS committee_members,
         count(CASE WHEN 'delegate' IN p.roles THEN 1 END) AS delegates,
         count(CASE WHEN 'cadre' IN p.roles THEN 1 END) AS cadres,
         count(CASE WHEN p.hardship THEN 1 END) AS members_in_hardship
}
CALL (asOf) {
  MATCH (h:Household)
  WHERE h.status = 'active' OR (h.inactive_since IS NOT NULL AND asOf < h.inactive_since)
  RETURN count(h) AS households,
         count(CASE WHEN any(c IN h.categories WHERE c IN $focus_categories) THEN 1 END) AS focus_households,
         count(CASE WHEN 'military_martyr' IN h.categories THEN 1 END) AS cat_military_martyr,
         count(CASE WHEN 'extreme_poverty' IN h.categories THEN 1 END) AS cat_extreme_poverty,
         count(CASE WHEN 'empty_nest_elderly' IN h.categories THEN 1 END) AS cat_empty_nest_elderly,
         count(CASE WHEN 'poor' IN h.categories THEN 1 END) AS cat_poor
}
CALL (asOf) {
  OPTIONAL MATCH (u:Unit)-[r:PAIRED_WITH]->(v:Village)
  WHERE (r.since IS NULL OR r.since <= asOf) AND (r.until IS NULL OR asOf < r.until)
  RETURN count(r) AS pairings, count(DISTINCT u) AS paired_units, count(DISTINCT v) AS paired_villages
}
CALL (asOf) {
  OPTIONAL MATCH (:Person)-[r:SUPPORTS]->(h:Household)
  WHERE (h.status = 'active' OR (h.inactive_since IS NOT NULL AND asOf < h.inactive_since))
    AND (r.since IS NULL OR r.since <= asOf) AND (r.until IS NULL OR asOf < r.until)
  RETURN count(r) AS supports
}
CALL (asOf) {
  OPTIONAL MATCH (:Person)-[c:CONTACTED]->(h:Household)
  WHERE (h.status = 'active' OR (h.inactive_since IS NOT NULL AND asOf < h.inactive_since))
    AND c.date <= asOf
  RETURN count(c) AS contacts,
         count(CASE WHEN c.request IS NOT NULL THEN 1 END) AS requests_raised,
         count(CASE WHEN c.request IS NOT NULL AND c.resolved THEN 1 END) AS requests_resolved
}
RETURN townships, villages, villages_needing_pairing,
       org_committee, org_general_branch, org_branch,
       unit_agency, unit_institution, unit_enterprise,
       people, committee_members, delegates, cadres, members_in_hardship,
       households, focus_households,
       cat_military_martyr, cat_extreme_poverty, cat_empty_nest_elderly, cat_poor,
       pairings, paired_units, paired_villages, supports, contacts, requests_raised, requests_resolved

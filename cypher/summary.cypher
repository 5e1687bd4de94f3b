// The county in numbers on $as_of; must equal graphsvc.summary.summarize on the same data.
// $township_id (null: the whole county) narrows everything to one township: its villages;
// organisations, people and households by the township rule (a person: township_id, else
// their village's, else their organisation's; an organisation: township_id, else its
// village's; a household: its village's); pairings with its villages and the units paired
// (at any time) with one of them; supports and contacts of its households.
WITH $as_of AS asOf
CALL () {
  MATCH (t:Township) WHERE $township_id IS NULL OR t.id = $township_id
  RETURN count(t) AS townships
}
CALL () {
  MATCH (v:Village) WHERE $township_id IS NULL OR v.township_id = $township_id
  RETURN count(v) AS villages, count(CASE WHEN v.needs_pairing THEN 1 END) AS villages_needing_pairing
}
CALL () {
  MATCH (o:Organization)
  WHERE $township_id IS NULL
     OR coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0]) = $township_id
  RETURN count(CASE o.kind WHEN 'committee' THEN 1 END) AS org_committee,
         count(CASE o.kind WHEN 'general_branch' THEN 1 END) AS org_general_branch,
         count(CASE o.kind WHEN 'branch' THEN 1 END) AS org_branch
}
CALL () {
  MATCH (u:Unit)
  WHERE $township_id IS NULL
     OR EXISTS { MATCH (u)-[:PAIRED_WITH]->(lv:Village) WHERE lv.township_id = $township_id }
  RETURN count(CASE u.sector WHEN 'agency' THEN 1 END) AS unit_agency,
         count(CASE u.sector WHEN 'institution' THEN 1 END) AS unit_institution,
         count(CASE u.sector WHEN 'enterprise' THEN 1 END) AS unit_enterprise
}
// people: in a township, those whose own township is it, else whose village is in it, else
// whose organisation is in it (disjoint, so UNION ALL; the township rule is checked again)
CALL (asOf) {
  CALL () {
    UNWIND CASE WHEN $township_id IS NULL THEN [1] ELSE [] END AS everyone
    MATCH (p:Person)
    RETURN p
    UNION ALL
    MATCH (:Township {id: $township_id})<-[:IN_TOWNSHIP]-(p:Person)
    WHERE p.township_id = $township_id
    RETURN p
    UNION ALL
    UNWIND CASE WHEN $township_id IS NULL THEN [] ELSE [$township_id] END AS tid
    MATCH (v:Village) WHERE v.township_id = tid
    MATCH (v)<-[:IN_VILLAGE]-(p:Person)
    WHERE p.township_id IS NULL
    RETURN p
    UNION ALL
    UNWIND CASE WHEN $township_id IS NULL THEN [] ELSE [$township_id] END AS tid
    MATCH (o:Organization)
    WHERE coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0]) = tid
    MATCH (o)<-[:BELONGS_TO]-(p:Person)
    WHERE p.township_id IS NULL AND NOT EXISTS { (p)-[:IN_VILLAGE]->(:Village) }
    RETURN p
  }
  WITH p, asOf
  WHERE (p.status = 'active' OR (p.inactive_since IS NOT NULL AND asOf < p.inactive_since))
    AND ($township_id IS NULL
         OR coalesce(p.township_id,
                     [(p)-[:IN_VILLAGE]->(pv:Village) | pv.township_id][0],
                     [(p)-[:BELONGS_TO]->(o:Organization) |
                        coalesce(o.township_id, [(o)-[:IN_VILLAGE]->(ov:Village) | ov.township_id][0])][0])
            = $township_id)
  RETURN count(p) AS people,
         count(CASE WHEN 'committee_member' IN p.roles THEN 1 END) AS committee_members,
         count(CASE WHEN 'delegate' IN p.roles THEN 1 END) AS delegates,
         count(CASE WHEN 'cadre' IN p.roles THEN 1 END) AS cadres,
         count(CASE WHEN p.hardship THEN 1 END) AS members_in_hardship
}
// the active households in scope, with what is counted of them
CALL (asOf) {
  CALL () {
    UNWIND CASE WHEN $township_id IS NULL THEN [1] ELSE [] END AS everyone
    MATCH (h:Household)
    RETURN h
    UNION ALL
    UNWIND CASE WHEN $township_id IS NULL THEN [] ELSE [$township_id] END AS tid
    MATCH (v:Village) WHERE v.township_id = tid
    MATCH (v)<-[:IN_VILLAGE]-(h:Household)
    RETURN h
  }
  WITH h, asOf
  WHERE (h.status = 'active' OR (h.inactive_since IS NOT NULL AND asOf < h.inactive_since))
    AND ($township_id IS NULL
         OR [(h)-[:IN_VILLAGE]->(hv:Village) | hv.township_id][0] = $township_id)
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
CALL (asOf) {
  OPTIONAL MATCH (u:Unit)-[r:PAIRED_WITH]->(v:Village)
  WHERE (r.since IS NULL OR r.since <= asOf) AND (r.until IS NULL OR asOf < r.until)
    AND ($township_id IS NULL OR v.township_id = $township_id)
  RETURN count(r) AS pairings, count(DISTINCT u) AS paired_units, count(DISTINCT v) AS paired_villages
}
RETURN townships, villages, villages_needing_pairing,
       org_committee, org_general_branch, org_branch,
       unit_agency, unit_institution, unit_enterprise,
       people, committee_members, delegates, cadres, members_in_hardship,
       households, focus_households,
       cat_military_martyr, cat_extreme_poverty, cat_empty_nest_elderly, cat_poor,
       pairings, paired_units, paired_villages, supports, contacts, requests_raised, requests_resolved

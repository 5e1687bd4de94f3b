MATCH (p:Person)-[r:SUPPORTS]->(h:Household)
RETURN {person_id: p.id, household_id: h.id, since: r.since, until: r.until} AS rec

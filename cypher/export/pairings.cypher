MATCH (u:Unit)-[r:PAIRED_WITH]->(v:Village)
RETURN {unit_id: u.id, village_id: v.id, since: r.since, until: r.until} AS rec

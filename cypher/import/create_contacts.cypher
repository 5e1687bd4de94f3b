// New contacts (key not yet stored).
UNWIND $rows AS row
MATCH (p:Person {id: row.person_id})
MATCH (h:Household {id: row.household_id})
CREATE (p)-[:CONTACTED {key: row.key, date: row.date, channel: row.channel,
                        request: row.request, resolved: row.resolved}]->(h)

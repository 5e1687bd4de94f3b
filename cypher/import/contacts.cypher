// Add contacts; a contact is identified by all of its columns (key), so re-importing adds nothing.
UNWIND $rows AS row
MATCH (p:Person {id: row.person_id})
MATCH (h:Household {id: row.household_id})
MERGE (p)-[r:CONTACTED {key: row.key}]->(h)
ON CREATE SET r.date = row.date, r.channel = row.channel, r.request = row.request, r.resolved = row.resolved

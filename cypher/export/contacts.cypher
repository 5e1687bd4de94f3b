MATCH (p:Person)-[r:CONTACTED]->(h:Household)
RETURN {person_id: p.id, household_id: h.id, date: r.date, channel: r.channel,
        request: r.request, resolved: r.resolved} AS rec

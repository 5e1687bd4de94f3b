// Every liaison of the three kinds, as liaisons.csv rows.
MATCH (a:Person)-[r:LIAISES_WITH_DELEGATE|LIAISES_WITH_MEMBER|LIAISES_WITH_HOUSEHOLD]->(b)
RETURN {kind: CASE type(r) WHEN 'LIAISES_WITH_DELEGATE' THEN 'committee_member-delegate'
                          WHEN 'LIAISES_WITH_MEMBER' THEN 'delegate-member'
                          ELSE 'member-household' END,
        from_id: a.id, to_id: b.id, since: r.since, until: r.until} AS rec

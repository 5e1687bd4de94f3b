// Inside an import's transaction: one audit log entry (graphsvc.auditlog), written with the
// data or not at all. AuditEntry.id is unique (schema.cypher).
CREATE (a:AuditEntry {id: $row.id, at: $row.at, key_id: $row.key_id, action: $row.action,
                      subjects: $row.subjects, entry: $row.entry})

// Inside an import's transaction, after its rows: every record it names gets the write's stamp
// (graphsvc.auditlog.version), even when its values stayed the same, so that a version a client
// saw never comes back once the record has been written.
UNWIND $ids AS id
MATCH (n:Entity {id: id})
SET n._stamp = $stamp

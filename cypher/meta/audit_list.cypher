// The audit log, newest first, filtered ($since/$until: ISO instants, $key_id, $action,
// $subject: an id the change touched; each null for any), with the total and one page.
MATCH (a:AuditEntry)
WHERE ($since IS NULL OR a.at >= $since) AND ($until IS NULL OR a.at < $until)
  AND ($key_id IS NULL OR a.key_id = $key_id) AND ($action IS NULL OR a.action = $action)
  AND ($subject IS NULL OR $subject IN a.subjects)
WITH a ORDER BY a.at DESC, a.id DESC
WITH collect(a.entry) AS entries
RETURN size(entries) AS total, entries[$offset..$offset + $limit] AS page

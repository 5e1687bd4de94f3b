// A token that changes with every committed import (meta/commit): what caches of
// derived figures (the diagrams' coverage counts) are keyed by. Absent before the first write.
OPTIONAL MATCH (m:GraphsvcMeta {id: 'data'})
RETURN m.version AS version

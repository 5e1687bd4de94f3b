// Replace mode: drop every record (and with them every relationship) before writing the bundle.
MATCH (n:Entity)
DETACH DELETE n

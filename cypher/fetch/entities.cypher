// The stored records among $ids, with their labels (validation asks before it writes).
UNWIND $ids AS id
MATCH (n:Entity {id: id})
RETURN labels(n) AS labels, n {.*} AS rec

MATCH (n:Township) RETURN n {.*} AS rec

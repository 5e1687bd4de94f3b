// Which contact keys are stored already (the import adds only the others).
UNWIND $keys AS key
MATCH ()-[r:CONTACTED {key: key}]->()
RETURN r.key AS key

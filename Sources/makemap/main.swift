import SMTPDTables
// Front end written by the db/makemap issue.
print("makemap: not yet implemented")

import SMTPDTables
print("newaliases: not yet implemented")

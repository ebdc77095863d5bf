# fish completion for makemap (smtpd-tables). Operands complete as file names (fish's default).
for cmd in makemap makemap.smtpd-tables
    complete -c $cmd -s U -d 'Dump a database as key<TAB>value lines'
    complete -c $cmd -s d -x -a 'hash btree' -d 'Database type'
    complete -c $cmd -s o -r -F -d 'Database to write'
    complete -c $cmd -s t -x -a 'aliases set' -d 'Table type'
    complete -c $cmd -s b -x -a i -d 'i: behave as newaliases'
    complete -c $cmd -s C -r -F -d 'Ignored, for compatibility'
    complete -c $cmd -s O -x -a 'AliasFile=' -d 'AliasFile=PATH'
    complete -c $cmd -s V -l version -d 'Print the version and exit'
end

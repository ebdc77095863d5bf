# fish completion for newaliases (smtpd-tables).
for cmd in newaliases newaliases.smtpd-tables
    complete -c $cmd -f
    complete -c $cmd -s f -r -F -d 'smtpd.conf to read'
    complete -c $cmd -s V -l version -d 'Print the version and exit'
end

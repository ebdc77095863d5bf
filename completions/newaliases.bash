# bash completion for newaliases (smtpd-tables; OpenSMTPD's takes the same -f).
_smtpd_tables_newaliases() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    if [[ $prev == -f ]]; then
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -W '-f -V --version' -- "$cur"))
}
complete -F _smtpd_tables_newaliases newaliases newaliases.smtpd-tables

# bash completion for makemap (smtpd-tables; the options are also those of OpenSMTPD's makemap, bar -V).
# Installed as completions/makemap (and makemap.smtpd-tables, a link) where bash-completion loads it on demand.
_smtpd_tables_makemap() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        -d) COMPREPLY=($(compgen -W 'hash btree' -- "$cur")); return ;;
        -t) COMPREPLY=($(compgen -W 'aliases set' -- "$cur")); return ;;
        -b) COMPREPLY=($(compgen -W 'i' -- "$cur")); return ;;
        -O)
            if [[ $cur == AliasFile=* ]]; then
                # Complete the path after AliasFile=, keeping the prefix on every candidate.
                local path
                COMPREPLY=()
                while IFS= read -r path; do COMPREPLY+=("AliasFile=$path"); done < <(compgen -f -- "${cur#AliasFile=}")
            else
                COMPREPLY=($(compgen -W 'AliasFile=' -- "$cur"))
                compopt -o nospace 2>/dev/null
            fi
            return ;;
        -o|-C) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '-U -d -o -t -b -C -O -V --version' -- "$cur"))
        return
    fi
    # The table file (or, in the sendmail form, the database type then the name): file names.
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _smtpd_tables_makemap makemap makemap.smtpd-tables

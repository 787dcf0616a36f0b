# bash completion for sluicectl (installed as
# share/bash-completion/completions/sluicectl).  The candidates come from
# `sluicectl --complete WORD...`, i.e. from the API's own command table;
# this script only splits the line and completes file names.
_sluicectl() {
	local line=${COMP_LINE:0:COMP_POINT} cur prev
	local -a words
	read -ra words <<<"$line"
	[[ $line == *[[:space:]] ]] && words+=("")
	cur=${words[-1]}
	prev=${words[-2]:-}
	COMPREPLY=()
	case $prev in
	-s | --socket | -c | --config)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	-t | --timeout | -x | --tx) return ;;
	esac
	if [[ $cur == path=* ]]; then
		mapfile -t COMPREPLY < <(compgen -f -- "${cur#path=}")
		compopt -o filenames 2>/dev/null
		return
	fi
	local cands
	cands=$("${SLUICECTL:-sluicectl}" --complete "${words[@]:1}" 2>/dev/null) || return
	mapfile -t COMPREPLY < <(compgen -W "$cands" -- "$cur")
	# bash breaks words at '=': offer only what follows it
	if [[ $cur == *=* && $COMP_WORDBREAKS == *=* ]]; then
		COMPREPLY=("${COMPREPLY[@]#*=}")
	fi
	[[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
	return 0
}
complete -F _sluicectl sluicectl

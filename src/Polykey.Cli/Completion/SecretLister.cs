namespace Polykey.Cli.Completion;

/// <summary>
/// The shell functions (bash and zsh alike) that ask pk itself for secret and remote names.
/// pk is run only where it can answer without asking: stdin is /dev/null, and pk prompts for
/// a passphrase only when stdin is a terminal (Terminal.IsInteractive), so a keynode that needs
/// one fails at once instead. A key file, $PK_PASSPHRASE(_FILE) or `pk unlock` lets it answer.
/// </summary>
internal static class SecretLister
{
    public const string Posix = """
        # ~/x as the shell would have expanded it: completion sees words as they were typed.
        __pk_expand_tilde() {
            case $1 in
                '~') printf '%s\n' "$HOME" ;;
                '~/'*) printf '%s\n' "$HOME/${1#'~/'}" ;;
                *) printf '%s\n' "$1" ;;
            esac
        }

        # Runs pk ($@) only as far as it can go without asking anything: no terminal on stdin (so no
        # passphrase prompt), at most 1 s waiting for another process's lock, 3 s in all. On any
        # failure it prints nothing, so nothing is offered.
        __pk_quietly() {
            if command -v timeout >/dev/null 2>&1; then
                PK_LOCK_TIMEOUT=1 timeout 3 "$@" </dev/null 2>/dev/null
            else
                PK_LOCK_TIMEOUT=1 "$@" </dev/null 2>/dev/null
            fi
        }

        # Secret names starting with $1, cut after the next '/' (prod/ for prod/db/password) so a
        # deep tree completes one level at a time; the rest is the pk command to list them with.
        # `pk ls` prints names sorted, so the names sharing a prefix come together.
        __pk_secret_names() {
            local cur=$1 dir= name rest candidate last=
            shift
            case $cur in */*) dir=${cur%/*}/ ;; esac
            local -a list
            list=("$@" ls)
            [ -n "$dir" ] && list+=(-- "$dir")
            __pk_quietly "${list[@]}" | while IFS= read -r name; do
                case $name in "$cur"*) ;; *) continue ;; esac
                rest=${name#"$cur"}
                case $rest in
                    */*) candidate=$cur${rest%%/*}/ ;;
                    *) candidate=$name ;;
                esac
                [ "$candidate" = "$last" ] && continue
                last=$candidate
                printf '%s\n' "$candidate"
            done
        }

        # The names of this keynode's remotes starting with $1 (the first word of each `pk remote ls` line).
        __pk_remote_names() {
            local cur=$1 name rest
            shift
            __pk_quietly "$@" remote ls | while read -r name rest; do
                case $name in "$cur"*) printf '%s\n' "$name" ;; esac
            done
        }


        """;
}

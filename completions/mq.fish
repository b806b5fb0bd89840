# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mq_global_optspecs
    string join \n help version
end

function __fish_mq_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mq_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mq_using_subcommand
    set -l cmd (__fish_mq_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mq -n "__fish_mq_needs_command" -l help -d 'Print help'
complete -c mq -n "__fish_mq_needs_command" -l version -d 'Print version'
complete -c mq -n "__fish_mq_needs_command" -f -a "passwd" -d 'Manage a mosquitto password file (mosquitto_passwd\'s interface)'
complete -c mq -n "__fish_mq_needs_command" -f -a "generate-docs" -d 'Regenerate the man pages and shell completions from these definitions'
complete -c mq -n "__fish_mq_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s H -d 'Hash: sha512-pbkdf2 (mosquitto 2.x) or sha512 (mosquitto 1.x)' -r -f -a "sha512-pbkdf2\t''
sha512\t''"
complete -c mq -n "__fish_mq_using_subcommand passwd" -s I -d 'PBKDF2 iterations' -r
complete -c mq -n "__fish_mq_using_subcommand passwd" -s b -d 'Batch mode: take the password from the command line'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s c -d 'Create a new password file, overwriting any existing one'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s D -d 'Delete USER from the file'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s U -d 'Upgrade a plain-text `user:password` file in place to hashed passwords'
complete -c mq -n "__fish_mq_using_subcommand passwd" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand generate-docs" -l out -d 'Directory that receives `man/` and `completions/`' -r -F
complete -c mq -n "__fish_mq_using_subcommand generate-docs" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from passwd generate-docs help" -f -a "passwd" -d 'Manage a mosquitto password file (mosquitto_passwd\'s interface)'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from passwd generate-docs help" -f -a "generate-docs" -d 'Regenerate the man pages and shell completions from these definitions'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from passwd generate-docs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

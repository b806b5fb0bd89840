
use builtin;
use str;

set edit:completion:arg-completer[mq] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mq'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mq'= {
            cand --help 'Print help'
            cand --version 'Print version'
            cand passwd 'Manage a mosquitto password file (mosquitto_passwd''s interface)'
            cand generate-docs 'Regenerate the man pages and shell completions from these definitions'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mq;passwd'= {
            cand -H 'Hash: sha512-pbkdf2 (mosquitto 2.x) or sha512 (mosquitto 1.x)'
            cand -I 'PBKDF2 iterations'
            cand -b 'Batch mode: take the password from the command line'
            cand -c 'Create a new password file, overwriting any existing one'
            cand -D 'Delete USER from the file'
            cand -U 'Upgrade a plain-text `user:password` file in place to hashed passwords'
            cand --help 'Print help'
        }
        &'mq;generate-docs'= {
            cand --out 'Directory that receives `man/` and `completions/`'
            cand --help 'Print help'
        }
        &'mq;help'= {
            cand passwd 'Manage a mosquitto password file (mosquitto_passwd''s interface)'
            cand generate-docs 'Regenerate the man pages and shell completions from these definitions'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mq;help;passwd'= {
        }
        &'mq;help;generate-docs'= {
        }
        &'mq;help;help'= {
        }
    ]
    $completions[$command]
}

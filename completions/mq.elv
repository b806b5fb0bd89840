
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
            cand generate-docs 'Regenerate the man pages and shell completions from these definitions'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mq;generate-docs'= {
            cand --out 'Directory that receives `man/` and `completions/`'
            cand --help 'Print help'
        }
        &'mq;help'= {
            cand generate-docs 'Regenerate the man pages and shell completions from these definitions'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mq;help;generate-docs'= {
        }
        &'mq;help;help'= {
        }
    ]
    $completions[$command]
}

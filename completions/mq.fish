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
complete -c mq -n "__fish_mq_needs_command" -f -a "broker" -d 'Run an MQTT broker'
complete -c mq -n "__fish_mq_needs_command" -f -a "passwd" -d 'Manage a mosquitto password file (mosquitto_passwd\'s interface)'
complete -c mq -n "__fish_mq_needs_command" -f -a "pub" -d 'Publish a message (mosquitto_pub)'
complete -c mq -n "__fish_mq_needs_command" -f -a "sub" -d 'Subscribe and print messages (mosquitto_sub)'
complete -c mq -n "__fish_mq_needs_command" -f -a "rr" -d 'Send a request and print the response (mosquitto_rr)'
complete -c mq -n "__fish_mq_needs_command" -f -a "meteo" -d 'Publish AEMET forecasts and observations over MQTT'
complete -c mq -n "__fish_mq_needs_command" -f -a "bench" -d 'Load-test a broker: hold connections, publish, subscribe, measure'
complete -c mq -n "__fish_mq_needs_command" -f -a "test" -d 'Find out what a broker supports and where its limits are'
complete -c mq -n "__fish_mq_needs_command" -f -a "generate-docs" -d 'Regenerate the man pages and shell completions from these definitions'
complete -c mq -n "__fish_mq_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mq -n "__fish_mq_using_subcommand broker" -s c -l config-file -d 'Load configuration from a mosquitto.conf-style file' -r -F
complete -c mq -n "__fish_mq_using_subcommand broker" -s p -l port -d 'Listen on this port on the loopback address (repeatable; ignored when the config file defines listeners)' -r
complete -c mq -n "__fish_mq_using_subcommand broker" -s v -l verbose -d 'Verbose logging: every log type'
complete -c mq -n "__fish_mq_using_subcommand broker" -l test-config -d 'Check the config file (with its included files, password and ACL files) and exit: status 0 when it is valid, 1 with the problem otherwise'
complete -c mq -n "__fish_mq_using_subcommand broker" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s H -d 'Hash: sha512-pbkdf2 (mosquitto 2.x) or sha512 (mosquitto 1.x)' -r -f -a "sha512-pbkdf2\t''
sha512\t''"
complete -c mq -n "__fish_mq_using_subcommand passwd" -s I -d 'PBKDF2 iterations' -r
complete -c mq -n "__fish_mq_using_subcommand passwd" -s b -d 'Batch mode: take the password from the command line'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s c -d 'Create a new password file, overwriting any existing one'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s D -d 'Delete USER from the file'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s U -d 'Upgrade a plain-text `user:password` file in place to hashed passwords'
complete -c mq -n "__fish_mq_using_subcommand passwd" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand pub" -s t -l topic -d 'Topic to publish to (a later -t replaces an earlier one)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s m -l message -d 'Message payload' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s f -l file -d 'Send the whole file as one message' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -s q -l qos -d 'Quality of service: 0, 1 or 2' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l repeat -d 'Publish the message this many times' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l repeat-delay -d 'Seconds to wait between repeats (may be fractional)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s h -l host -d 'Broker host name or address' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s p -l port -d 'Broker port (1883, or 8883 when TLS is in use)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s P -l pw -d 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l pw-file -d 'Read the password from the first line of this file' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l ws-path -d 'Request path of the WebSocket upgrade [default: /mqtt]; implies --ws' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s V -l protocol-version -d 'MQTT protocol version: mqttv31, mqttv311 or mqttv5' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s i -l id -d 'Client identifier (default: generated, or assigned by the broker in v5)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s I -l id-prefix -d 'Client identifier prefix; the process id is appended' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s k -l keepalive -d 'Keep-alive interval in seconds (5 to 65535)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s x -d 'v5 session expiry interval in seconds; -1 means never' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s D -l property -d 'Add an MQTT v5 property: CMD ID VALUE, or CMD user-property NAME VALUE' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s L -l url -d 'URL `mqtt(s)://[user[:password]@]host[:port]/topic` or `ws(s)://[user[:password]@]host[:port]/path/topic` (the first path segment is the WebSocket path unless --ws-path says more)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s M -d 'Maximum QoS 1/2 messages in flight' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s A -d 'Bind the outgoing socket to this local address' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l unix -d 'Connect over this unix socket instead of TCP' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l cafile -d 'PEM file of trusted CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l capath -d 'Directory of PEM CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l cert -d 'Client certificate (PEM), for brokers that require one' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l tls-version -d 'Lowest TLS version: tlsv1.2 (the default, also allows 1.3) or tlsv1.3' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l ciphers -d 'OpenSSL cipher list, e.g. ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l tls-alpn -d 'TLS ALPN protocol to offer' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l tls-keylog -d 'Append the TLS session secrets to FILE (NSS key log format, for Wireshark)' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l psk -d 'TLS-PSK key (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l psk-identity -d 'TLS-PSK identity (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l will-topic -d 'Topic of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l will-payload -d 'Payload of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l will-qos -d 'QoS of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s s -l stdin-file -d 'Send all of stdin as one message'
complete -c mq -n "__fish_mq_using_subcommand pub" -s l -l stdin-line -d 'Send each line of stdin as a message'
complete -c mq -n "__fish_mq_using_subcommand pub" -s n -l null-message -d 'Send a zero-length message'
complete -c mq -n "__fish_mq_using_subcommand pub" -s r -l retain -d 'Retain the message'
complete -c mq -n "__fish_mq_using_subcommand pub" -l hex -d 'The -m message (or each -l line) is hexadecimal: publish the bytes it spells'
complete -c mq -n "__fish_mq_using_subcommand pub" -l ws -d 'Speak MQTT over WebSockets (port 80, or 443 with TLS, unless -p says otherwise)'
complete -c mq -n "__fish_mq_using_subcommand pub" -s c -l disable-clean-session -d 'Keep the session after disconnecting (clean session off); needs -i'
complete -c mq -n "__fish_mq_using_subcommand pub" -s d -l debug -d 'Print the protocol exchange on stdout'
complete -c mq -n "__fish_mq_using_subcommand pub" -l nodelay -d 'Disable Nagle\'s algorithm'
complete -c mq -n "__fish_mq_using_subcommand pub" -l quiet -d 'Do not print runtime errors'
complete -c mq -n "__fish_mq_using_subcommand pub" -l insecure -d 'Do not check that the server certificate\'s name matches the host (the chain, dates and signatures are still checked)'
complete -c mq -n "__fish_mq_using_subcommand pub" -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates; enables TLS'
complete -c mq -n "__fish_mq_using_subcommand pub" -l will-retain -d 'Retain the will message'
complete -c mq -n "__fish_mq_using_subcommand pub" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand sub" -s t -l topic -d 'Topic filter to subscribe to (repeatable)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s T -l filter-out -d 'Do not print messages whose topic matches this filter (repeatable)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s U -l unsubscribe -d 'Unsubscribe from this filter after subscribing (repeatable)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s q -l qos -d 'Requested QoS of the subscriptions' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s C -d 'Exit after this many messages' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s W -d 'Exit after this many seconds (status 27)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l random-filter -d 'Print only this percentage of messages, chosen at random (0.1 to 100)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s F -d 'Output format (see the -F specifiers of mosquitto_sub)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s h -l host -d 'Broker host name or address' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s p -l port -d 'Broker port (1883, or 8883 when TLS is in use)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s P -l pw -d 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l pw-file -d 'Read the password from the first line of this file' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l ws-path -d 'Request path of the WebSocket upgrade [default: /mqtt]; implies --ws' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s V -l protocol-version -d 'MQTT protocol version: mqttv31, mqttv311 or mqttv5' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s i -l id -d 'Client identifier (default: generated, or assigned by the broker in v5)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s I -l id-prefix -d 'Client identifier prefix; the process id is appended' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s k -l keepalive -d 'Keep-alive interval in seconds (5 to 65535)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s x -d 'v5 session expiry interval in seconds; -1 means never' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s D -l property -d 'Add an MQTT v5 property: CMD ID VALUE, or CMD user-property NAME VALUE' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s L -l url -d 'URL `mqtt(s)://[user[:password]@]host[:port]/topic` or `ws(s)://[user[:password]@]host[:port]/path/topic` (the first path segment is the WebSocket path unless --ws-path says more)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s M -d 'Maximum QoS 1/2 messages in flight' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s A -d 'Bind the outgoing socket to this local address' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l unix -d 'Connect over this unix socket instead of TCP' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l cafile -d 'PEM file of trusted CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l capath -d 'Directory of PEM CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l cert -d 'Client certificate (PEM), for brokers that require one' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l tls-version -d 'Lowest TLS version: tlsv1.2 (the default, also allows 1.3) or tlsv1.3' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l ciphers -d 'OpenSSL cipher list, e.g. ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l tls-alpn -d 'TLS ALPN protocol to offer' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l tls-keylog -d 'Append the TLS session secrets to FILE (NSS key log format, for Wireshark)' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l psk -d 'TLS-PSK key (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l psk-identity -d 'TLS-PSK identity (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l will-topic -d 'Topic of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l will-payload -d 'Payload of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l will-qos -d 'QoS of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s R -d 'Do not print retained messages'
complete -c mq -n "__fish_mq_using_subcommand sub" -l retained-only -d 'Only print retained messages; exit at the first live one'
complete -c mq -n "__fish_mq_using_subcommand sub" -l remove-retained -d 'Clear every retained message received'
complete -c mq -n "__fish_mq_using_subcommand sub" -s E -d 'Exit right after the subscription is acknowledged'
complete -c mq -n "__fish_mq_using_subcommand sub" -l retain-as-published -d 'v5: keep the retain flag as published'
complete -c mq -n "__fish_mq_using_subcommand sub" -s v -l verbose -d 'Print the topic before the payload'
complete -c mq -n "__fish_mq_using_subcommand sub" -s N -d 'Do not print a newline after each message'
complete -c mq -n "__fish_mq_using_subcommand sub" -l pretty -d 'Pretty-print %j and %J JSON'
complete -c mq -n "__fish_mq_using_subcommand sub" -l json -d 'One JSON object per message (NDJSON): payload as JSON when it parses, else as a string, base64 for binary'
complete -c mq -n "__fish_mq_using_subcommand sub" -l ws -d 'Speak MQTT over WebSockets (port 80, or 443 with TLS, unless -p says otherwise)'
complete -c mq -n "__fish_mq_using_subcommand sub" -s c -l disable-clean-session -d 'Keep the session after disconnecting (clean session off); needs -i'
complete -c mq -n "__fish_mq_using_subcommand sub" -s d -l debug -d 'Print the protocol exchange on stdout'
complete -c mq -n "__fish_mq_using_subcommand sub" -l nodelay -d 'Disable Nagle\'s algorithm'
complete -c mq -n "__fish_mq_using_subcommand sub" -l quiet -d 'Do not print runtime errors'
complete -c mq -n "__fish_mq_using_subcommand sub" -l insecure -d 'Do not check that the server certificate\'s name matches the host (the chain, dates and signatures are still checked)'
complete -c mq -n "__fish_mq_using_subcommand sub" -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates; enables TLS'
complete -c mq -n "__fish_mq_using_subcommand sub" -l will-retain -d 'Retain the will message'
complete -c mq -n "__fish_mq_using_subcommand sub" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand rr" -s e -l response-topic -d 'Response topic to subscribe to and name in the request' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s t -l topic -d 'Request topic' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s m -l message -d 'Request payload' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s f -l file -d 'Send the whole file as the request' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -s q -l qos -d 'QoS of the request and of the response subscription' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s W -d 'Give up after this many seconds (status 27)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s F -d 'Output format (see the -F specifiers of mosquitto_sub)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s h -l host -d 'Broker host name or address' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s p -l port -d 'Broker port (1883, or 8883 when TLS is in use)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s P -l pw -d 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l pw-file -d 'Read the password from the first line of this file' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l ws-path -d 'Request path of the WebSocket upgrade [default: /mqtt]; implies --ws' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s V -l protocol-version -d 'MQTT protocol version: mqttv31, mqttv311 or mqttv5' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s i -l id -d 'Client identifier (default: generated, or assigned by the broker in v5)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s I -l id-prefix -d 'Client identifier prefix; the process id is appended' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s k -l keepalive -d 'Keep-alive interval in seconds (5 to 65535)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s x -d 'v5 session expiry interval in seconds; -1 means never' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s D -l property -d 'Add an MQTT v5 property: CMD ID VALUE, or CMD user-property NAME VALUE' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s L -l url -d 'URL `mqtt(s)://[user[:password]@]host[:port]/topic` or `ws(s)://[user[:password]@]host[:port]/path/topic` (the first path segment is the WebSocket path unless --ws-path says more)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s M -d 'Maximum QoS 1/2 messages in flight' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s A -d 'Bind the outgoing socket to this local address' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l unix -d 'Connect over this unix socket instead of TCP' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l cafile -d 'PEM file of trusted CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l capath -d 'Directory of PEM CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l cert -d 'Client certificate (PEM), for brokers that require one' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l tls-version -d 'Lowest TLS version: tlsv1.2 (the default, also allows 1.3) or tlsv1.3' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l ciphers -d 'OpenSSL cipher list, e.g. ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l tls-alpn -d 'TLS ALPN protocol to offer' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l tls-keylog -d 'Append the TLS session secrets to FILE (NSS key log format, for Wireshark)' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l psk -d 'TLS-PSK key (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l psk-identity -d 'TLS-PSK identity (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l will-topic -d 'Topic of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l will-payload -d 'Payload of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l will-qos -d 'QoS of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s s -l stdin-file -d 'Send all of stdin as the request'
complete -c mq -n "__fish_mq_using_subcommand rr" -s n -l null-message -d 'Send a zero-length request'
complete -c mq -n "__fish_mq_using_subcommand rr" -s R -d 'Ignore retained responses'
complete -c mq -n "__fish_mq_using_subcommand rr" -l retain-as-published -d 'v5: keep the retain flag as published'
complete -c mq -n "__fish_mq_using_subcommand rr" -s v -l verbose -d 'Print the topic before the payload'
complete -c mq -n "__fish_mq_using_subcommand rr" -s N -d 'Do not print a newline after each message'
complete -c mq -n "__fish_mq_using_subcommand rr" -l pretty -d 'Pretty-print %j and %J JSON'
complete -c mq -n "__fish_mq_using_subcommand rr" -l json -d 'One JSON object per message (NDJSON): payload as JSON when it parses, else as a string, base64 for binary'
complete -c mq -n "__fish_mq_using_subcommand rr" -l ws -d 'Speak MQTT over WebSockets (port 80, or 443 with TLS, unless -p says otherwise)'
complete -c mq -n "__fish_mq_using_subcommand rr" -s c -l disable-clean-session -d 'Keep the session after disconnecting (clean session off); needs -i'
complete -c mq -n "__fish_mq_using_subcommand rr" -s d -l debug -d 'Print the protocol exchange on stdout'
complete -c mq -n "__fish_mq_using_subcommand rr" -l nodelay -d 'Disable Nagle\'s algorithm'
complete -c mq -n "__fish_mq_using_subcommand rr" -l quiet -d 'Do not print runtime errors'
complete -c mq -n "__fish_mq_using_subcommand rr" -l insecure -d 'Do not check that the server certificate\'s name matches the host (the chain, dates and signatures are still checked)'
complete -c mq -n "__fish_mq_using_subcommand rr" -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates; enables TLS'
complete -c mq -n "__fish_mq_using_subcommand rr" -l will-retain -d 'Retain the will message'
complete -c mq -n "__fish_mq_using_subcommand rr" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand meteo" -s h -l host -d 'Broker host name or address' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -s p -l port -d 'Broker port (1883, or 8883 when TLS is in use)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -s P -l pw -d 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l pw-file -d 'Read the password from the first line of this file' -r -F
complete -c mq -n "__fish_mq_using_subcommand meteo" -l ws-path -d 'Request path of the WebSocket upgrade [default: /mqtt]; implies --ws' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -s V -l protocol-version -d 'MQTT protocol version: mqttv31, mqttv311 or mqttv5' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l cafile -d 'PEM file of trusted CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand meteo" -l capath -d 'Directory of PEM CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand meteo" -l cert -d 'Client certificate (PEM), for brokers that require one' -r -F
complete -c mq -n "__fish_mq_using_subcommand meteo" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand meteo" -l tls-version -d 'Lowest TLS version: tlsv1.2 (the default, also allows 1.3) or tlsv1.3' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l ciphers -d 'OpenSSL cipher list, e.g. ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l tls-alpn -d 'TLS ALPN protocol to offer' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l tls-keylog -d 'Append the TLS session secrets to FILE (NSS key log format, for Wireshark)' -r -F
complete -c mq -n "__fish_mq_using_subcommand meteo" -l psk -d 'TLS-PSK key (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l psk-identity -d 'TLS-PSK identity (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -s i -l id -d 'Client id (default: mq-meteo-PID)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -s k -l keepalive -d 'Keepalive in seconds' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l qos -d 'QoS of the publishes' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l source -d 'The weather service' -r -f -a "aemet\t'AEMET OpenData, the Spanish state weather service (needs a free API key)'
meteogalicia\t'MeteoGalicia, the Galician weather service of the Xunta de Galicia (no key)'"
complete -c mq -n "__fish_mq_using_subcommand meteo" -l station -d 'Station id (AEMET\'s IDEMA, MeteoGalicia\'s idEstacion) whose latest reading is published; repeatable' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l municipality -d 'Municipality INE code whose forecasts (and, from MeteoGalicia, current conditions) are published; repeatable' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l near -d 'Use the nearest station reporting temperature and the nearest municipality' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l max-distance -d 'Maximum distance for --near, in km' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l api-key-file -d 'Read the AEMET API key from the first line of this file' -r -F
complete -c mq -n "__fish_mq_using_subcommand meteo" -l api-key -d 'AEMET API key (prefer --api-key-file or AEMET_API_KEY, which stay out of `ps`)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l base-url -d 'The source\'s base URL (default: AEMET\'s https://opendata.aemet.es/opendata/api, MeteoGalicia\'s https://servizos.meteogalicia.gal/mgrss)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l prefix -d 'Topic prefix' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l interval -d 'Observation polling interval of the service mode (with --once: how often cron runs it, which sets how long Home Assistant trusts a value)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l forecast-interval -d 'Forecast polling interval of the service mode' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l discovery-prefix -d 'Home Assistant discovery prefix' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l cache-dir -d 'Cache directory (default $XDG_CACHE_HOME/mq/meteo)' -r -F
complete -c mq -n "__fish_mq_using_subcommand meteo" -l request-interval -d 'Minimum spacing of requests to the source (default: 2s for AEMET, 500ms for MeteoGalicia)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l timeout -d 'Timeout of one HTTP request' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l retries -d 'Retries of a failed request (429, 5xx, network errors; for MeteoGalicia also HTML and empty answers)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l backoff -d 'First wait before retrying a 5xx or network error; doubled each time' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l backoff-429 -d 'Wait before retrying after a 429 (AEMET\'s quota is per minute)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l now -d 'The current time, RFC 3339 (for reproducible runs)' -r
complete -c mq -n "__fish_mq_using_subcommand meteo" -l ws -d 'Speak MQTT over WebSockets (port 80, or 443 with TLS, unless -p says otherwise)'
complete -c mq -n "__fish_mq_using_subcommand meteo" -l insecure -d 'Do not check that the server certificate\'s name matches the host (the chain, dates and signatures are still checked)'
complete -c mq -n "__fish_mq_using_subcommand meteo" -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates; enables TLS'
complete -c mq -n "__fish_mq_using_subcommand meteo" -l all-stations -d 'Publish every station of AEMET\'s observacion/convencional/todas'
complete -c mq -n "__fish_mq_using_subcommand meteo" -l once -d 'Fetch, publish, wait for acknowledgements and exit (for cron)'
complete -c mq -n "__fish_mq_using_subcommand meteo" -l dry-run -d 'Print instead of publishing: tables on a terminal, `topic payload` lines when piped'
complete -c mq -n "__fish_mq_using_subcommand meteo" -s v -l verbose -d 'Log more: every request, the retained-topic checks'
complete -c mq -n "__fish_mq_using_subcommand meteo" -s q -l quiet -d 'Log errors only'
complete -c mq -n "__fish_mq_using_subcommand meteo" -l force -d 'Publish even what has not changed since the last publish'
complete -c mq -n "__fish_mq_using_subcommand meteo" -l discovery -d 'Publish Home Assistant MQTT discovery configs'
complete -c mq -n "__fish_mq_using_subcommand meteo" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand bench" -s h -l host -d 'Broker host name or address' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s p -l port -d 'Broker port (1883, or 8883 when TLS is in use)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s P -l pw -d 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l pw-file -d 'Read the password from the first line of this file' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench" -l ws-path -d 'Request path of the WebSocket upgrade [default: /mqtt]; implies --ws' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s V -l protocol-version -d 'MQTT protocol version: mqttv31, mqttv311 or mqttv5' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l cafile -d 'PEM file of trusted CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench" -l capath -d 'Directory of PEM CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench" -l cert -d 'Client certificate (PEM), for brokers that require one' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench" -l tls-version -d 'Lowest TLS version: tlsv1.2 (the default, also allows 1.3) or tlsv1.3' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l ciphers -d 'OpenSSL cipher list, e.g. ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l tls-alpn -d 'TLS ALPN protocol to offer' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l tls-keylog -d 'Append the TLS session secrets to FILE (NSS key log format, for Wireshark)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench" -l psk -d 'TLS-PSK key (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l psk-identity -d 'TLS-PSK identity (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s c -l count -d 'Number of clients (publishers in pubsub)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l subscribers -d 'Subscribers in pubsub (default: as many as publishers)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l slow-subscribers -d 'Extra subscribers in pubsub that read their socket slowly (see --slow-read-rate); their deliveries are counted apart and never hold the publishers back' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l slow-read-rate -d 'Bytes per second each slow subscriber reads from its socket' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l rate -d 'Connections started per second (0: as fast as the broker accepts them)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s t -l topic -d 'Topic template: %i is the client number, %c the client id' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l sub-topic -d 'Subscription filter template for subscribers (default: the -t template)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s s -l size -d 'Payload size in bytes; payloads of at least 12 bytes start with the send time, from which subscribers measure latency (smaller ones are not measured)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s m -l message -d 'Payload template instead of -s: %i is the client number, %n the message\'s sequence number (from 1), %% a percent sign. The 12-byte send time comes first, so latency is still measured' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l payload-file -d 'Payload template read from a file (as -m)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench" -s q -l qos -d 'QoS of publications and subscriptions' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s I -l interval -d 'Interval between publishes of one client (e.g. 1s, 10ms; 0: as fast as --inflight allows)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l msg-rate -d 'Total messages per second over all publishers (overrides -I)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s L -l limit -d 'Stop after this many messages in total (sent by publishers, received in `sub`)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s d -l duration -d 'Run this long once every client is connected (e.g. 30s, 2m)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l inflight -d 'Most unacknowledged QoS 1/2 messages per publisher' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -s k -l keepalive -d 'Keepalive in seconds' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l prefix -d 'Client id prefix (default: mqbench-PID-)' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l start-number -d 'Number of the first client' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l ifaddr -d 'Local addresses to spread connections over, comma separated' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l connect-timeout -d 'Seconds to wait for a TCP connection and its CONNACK' -r
complete -c mq -n "__fish_mq_using_subcommand bench" -l hdr-out -d 'Write the end-to-end latency distribution to FILE in HdrHistogram\'s percentile format (.hgrm, milliseconds), and beside it FILE-ack (PUBLISH to PUBACK/PUBCOMP, when publishing at QoS 1 or 2) and FILE-connect (TCP connect to CONNACK)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench" -l csv -d 'Write one CSV row per second to FILE: counters, rates and that second\'s latency percentiles (microseconds)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench" -l ws -d 'Speak MQTT over WebSockets (port 80, or 443 with TLS, unless -p says otherwise)'
complete -c mq -n "__fish_mq_using_subcommand bench" -l insecure -d 'Do not check that the server certificate\'s name matches the host (the chain, dates and signatures are still checked)'
complete -c mq -n "__fish_mq_using_subcommand bench" -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates; enables TLS'
complete -c mq -n "__fish_mq_using_subcommand bench" -l clean -d 'Start clean sessions (default)'
complete -c mq -n "__fish_mq_using_subcommand bench" -l no-clean -d 'Keep sessions (clean session / clean start off)'
complete -c mq -n "__fish_mq_using_subcommand bench" -l json -d 'Print the summary as one JSON object'
complete -c mq -n "__fish_mq_using_subcommand bench" -l json-every-second -d 'Print one JSON line per second on stdout'
complete -c mq -n "__fish_mq_using_subcommand bench" -l quiet -d 'No per-second output'
complete -c mq -n "__fish_mq_using_subcommand bench" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand test" -s V -l protocol-version -d 'Versions whose checks run: mqttv311, mqttv5 or all (3.1.1 and 5.0; every version\'s acceptance is tried in any case)' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s t -l timeout -d 'Time allowed for each check (seconds, or e.g. 500ms); searches stop there and report what they found so far' -r
complete -c mq -n "__fish_mq_using_subcommand test" -l topic-prefix -d 'First level of every test topic (a random level follows it), for brokers whose ACLs allow only some topics' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s h -l host -d 'Broker host name or address' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s p -l port -d 'Broker port (1883, or 8883 when TLS is in use)' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s P -l pw -d 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)' -r
complete -c mq -n "__fish_mq_using_subcommand test" -l pw-file -d 'Read the password from the first line of this file' -r -F
complete -c mq -n "__fish_mq_using_subcommand test" -l ws-path -d 'Request path of the WebSocket upgrade [default: /mqtt]; implies --ws' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s i -l id -d 'Client identifier (default: generated, or assigned by the broker in v5)' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s I -l id-prefix -d 'Client identifier prefix; the process id is appended' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s k -l keepalive -d 'Keep-alive interval in seconds (5 to 65535)' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s x -d 'v5 session expiry interval in seconds; -1 means never' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s D -l property -d 'Add an MQTT v5 property: CMD ID VALUE, or CMD user-property NAME VALUE' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s L -l url -d 'URL `mqtt(s)://[user[:password]@]host[:port]/topic` or `ws(s)://[user[:password]@]host[:port]/path/topic` (the first path segment is the WebSocket path unless --ws-path says more)' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s M -d 'Maximum QoS 1/2 messages in flight' -r
complete -c mq -n "__fish_mq_using_subcommand test" -s A -d 'Bind the outgoing socket to this local address' -r
complete -c mq -n "__fish_mq_using_subcommand test" -l unix -d 'Connect over this unix socket instead of TCP' -r -F
complete -c mq -n "__fish_mq_using_subcommand test" -l cafile -d 'PEM file of trusted CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand test" -l capath -d 'Directory of PEM CA certificates; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand test" -l cert -d 'Client certificate (PEM), for brokers that require one' -r -F
complete -c mq -n "__fish_mq_using_subcommand test" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand test" -l tls-version -d 'Lowest TLS version: tlsv1.2 (the default, also allows 1.3) or tlsv1.3' -r
complete -c mq -n "__fish_mq_using_subcommand test" -l ciphers -d 'OpenSSL cipher list, e.g. ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384' -r
complete -c mq -n "__fish_mq_using_subcommand test" -l tls-alpn -d 'TLS ALPN protocol to offer' -r
complete -c mq -n "__fish_mq_using_subcommand test" -l tls-keylog -d 'Append the TLS session secrets to FILE (NSS key log format, for Wireshark)' -r -F
complete -c mq -n "__fish_mq_using_subcommand test" -l psk -d 'TLS-PSK key (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand test" -l psk-identity -d 'TLS-PSK identity (refused: rustls has no pre-shared key support)' -r
complete -c mq -n "__fish_mq_using_subcommand test" -l json -d 'One JSON object per check per line'
complete -c mq -n "__fish_mq_using_subcommand test" -l ws -d 'Speak MQTT over WebSockets (port 80, or 443 with TLS, unless -p says otherwise)'
complete -c mq -n "__fish_mq_using_subcommand test" -s c -l disable-clean-session -d 'Keep the session after disconnecting (clean session off); needs -i'
complete -c mq -n "__fish_mq_using_subcommand test" -s d -l debug -d 'Print the protocol exchange on stdout'
complete -c mq -n "__fish_mq_using_subcommand test" -l nodelay -d 'Disable Nagle\'s algorithm'
complete -c mq -n "__fish_mq_using_subcommand test" -l quiet -d 'Do not print runtime errors'
complete -c mq -n "__fish_mq_using_subcommand test" -l insecure -d 'Do not check that the server certificate\'s name matches the host (the chain, dates and signatures are still checked)'
complete -c mq -n "__fish_mq_using_subcommand test" -l tls-use-os-certs -d 'Trust the operating system\'s CA certificates; enables TLS'
complete -c mq -n "__fish_mq_using_subcommand test" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand generate-docs" -l out -d 'Directory that receives `man/` and `completions/`' -r -F
complete -c mq -n "__fish_mq_using_subcommand generate-docs" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from broker passwd pub sub rr meteo bench test generate-docs help" -f -a "broker" -d 'Run an MQTT broker'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from broker passwd pub sub rr meteo bench test generate-docs help" -f -a "passwd" -d 'Manage a mosquitto password file (mosquitto_passwd\'s interface)'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from broker passwd pub sub rr meteo bench test generate-docs help" -f -a "pub" -d 'Publish a message (mosquitto_pub)'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from broker passwd pub sub rr meteo bench test generate-docs help" -f -a "sub" -d 'Subscribe and print messages (mosquitto_sub)'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from broker passwd pub sub rr meteo bench test generate-docs help" -f -a "rr" -d 'Send a request and print the response (mosquitto_rr)'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from broker passwd pub sub rr meteo bench test generate-docs help" -f -a "meteo" -d 'Publish AEMET forecasts and observations over MQTT'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from broker passwd pub sub rr meteo bench test generate-docs help" -f -a "bench" -d 'Load-test a broker: hold connections, publish, subscribe, measure'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from broker passwd pub sub rr meteo bench test generate-docs help" -f -a "test" -d 'Find out what a broker supports and where its limits are'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from broker passwd pub sub rr meteo bench test generate-docs help" -f -a "generate-docs" -d 'Regenerate the man pages and shell completions from these definitions'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from broker passwd pub sub rr meteo bench test generate-docs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'


using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mq' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mq'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mq' {
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('broker', 'broker', [CompletionResultType]::ParameterValue, 'Run an MQTT broker')
            [CompletionResult]::new('passwd', 'passwd', [CompletionResultType]::ParameterValue, 'Manage a mosquitto password file (mosquitto_passwd''s interface)')
            [CompletionResult]::new('pub', 'pub', [CompletionResultType]::ParameterValue, 'Publish a message (mosquitto_pub)')
            [CompletionResult]::new('sub', 'sub', [CompletionResultType]::ParameterValue, 'Subscribe and print messages (mosquitto_sub)')
            [CompletionResult]::new('rr', 'rr', [CompletionResultType]::ParameterValue, 'Send a request and print the response (mosquitto_rr)')
            [CompletionResult]::new('meteo', 'meteo', [CompletionResultType]::ParameterValue, 'Publish AEMET forecasts and observations over MQTT')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Load-test a broker: hold connections, publish, subscribe, measure')
            [CompletionResult]::new('generate-docs', 'generate-docs', [CompletionResultType]::ParameterValue, 'Regenerate the man pages and shell completions from these definitions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mq;broker' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Load configuration from a mosquitto.conf-style file')
            [CompletionResult]::new('--config-file', '--config-file', [CompletionResultType]::ParameterName, 'Load configuration from a mosquitto.conf-style file')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Listen on this port on the loopback address (repeatable; ignored when the config file defines listeners)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Listen on this port on the loopback address (repeatable; ignored when the config file defines listeners)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Verbose logging: every log type')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Verbose logging: every log type')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;passwd' {
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Hash: sha512-pbkdf2 (mosquitto 2.x) or sha512 (mosquitto 1.x)')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'PBKDF2 iterations')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Batch mode: take the password from the command line')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Create a new password file, overwriting any existing one')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'Delete USER from the file')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Upgrade a plain-text `user:password` file in place to hashed passwords')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;pub' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Topic to publish to (a later -t replaces an earlier one)')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic to publish to (a later -t replaces an earlier one)')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Message payload')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Message payload')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Send the whole file as one message')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Send the whole file as one message')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quality of service: 0, 1 or 2')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service: 0, 1 or 2')
            [CompletionResult]::new('--repeat', '--repeat', [CompletionResultType]::ParameterName, 'Publish the message this many times')
            [CompletionResult]::new('--repeat-delay', '--repeat-delay', [CompletionResultType]::ParameterName, 'Seconds to wait between repeats (may be fractional)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host name or address')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host name or address')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Broker port (1883, or 8883 when TLS is in use)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Broker port (1883, or 8883 when TLS is in use)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)')
            [CompletionResult]::new('--pw-file', '--pw-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of this file')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: mqttv31, mqttv311 or mqttv5')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: mqttv31, mqttv311 or mqttv5')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier (default: generated, or assigned by the broker in v5)')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier (default: generated, or assigned by the broker in v5)')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Client identifier prefix; the process id is appended')
            [CompletionResult]::new('--id-prefix', '--id-prefix', [CompletionResultType]::ParameterName, 'Client identifier prefix; the process id is appended')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep-alive interval in seconds (5 to 65535)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep-alive interval in seconds (5 to 65535)')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'v5 session expiry interval in seconds; -1 means never')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'Add an MQTT v5 property: CMD ID VALUE, or CMD user-property NAME VALUE')
            [CompletionResult]::new('--property', '--property', [CompletionResultType]::ParameterName, 'Add an MQTT v5 property: CMD ID VALUE, or CMD user-property NAME VALUE')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'URL `mqtt(s)://[user[:password]@]host[:port]/topic`')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'URL `mqtt(s)://[user[:password]@]host[:port]/topic`')
            [CompletionResult]::new('-M', '-M ', [CompletionResultType]::ParameterName, 'Maximum QoS 1/2 messages in flight')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Bind the outgoing socket to this local address')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Connect over this unix socket instead of TCP')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol to offer')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'PEM file of trusted CA certificates; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of PEM CA certificates; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM), for brokers that require one')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'TLS version: tlsv1.2 or tlsv1.3')
            [CompletionResult]::new('--will-topic', '--will-topic', [CompletionResultType]::ParameterName, 'Topic of the will message')
            [CompletionResult]::new('--will-payload', '--will-payload', [CompletionResultType]::ParameterName, 'Payload of the will message')
            [CompletionResult]::new('--will-qos', '--will-qos', [CompletionResultType]::ParameterName, 'QoS of the will message')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Send all of stdin as one message')
            [CompletionResult]::new('--stdin-file', '--stdin-file', [CompletionResultType]::ParameterName, 'Send all of stdin as one message')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Send each line of stdin as a message')
            [CompletionResult]::new('--stdin-line', '--stdin-line', [CompletionResultType]::ParameterName, 'Send each line of stdin as a message')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Send a zero-length message')
            [CompletionResult]::new('--null-message', '--null-message', [CompletionResultType]::ParameterName, 'Send a zero-length message')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Retain the message')
            [CompletionResult]::new('--retain', '--retain', [CompletionResultType]::ParameterName, 'Retain the message')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'The -m message (or each -l line) is hexadecimal: publish the bytes it spells')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Keep the session after disconnecting (clean session off); needs -i')
            [CompletionResult]::new('--disable-clean-session', '--disable-clean-session', [CompletionResultType]::ParameterName, 'Keep the session after disconnecting (clean session off); needs -i')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Print the protocol exchange on stdout')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Print the protocol exchange on stdout')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'Disable Nagle''s algorithm')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print runtime errors')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check that the server certificate''s name matches the host')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Trust the operating system''s CA certificates; enables TLS')
            [CompletionResult]::new('--will-retain', '--will-retain', [CompletionResultType]::ParameterName, 'Retain the will message')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;sub' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Topic filter to subscribe to (repeatable)')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic filter to subscribe to (repeatable)')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Do not print messages whose topic matches this filter (repeatable)')
            [CompletionResult]::new('--filter-out', '--filter-out', [CompletionResultType]::ParameterName, 'Do not print messages whose topic matches this filter (repeatable)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Unsubscribe from this filter after subscribing (repeatable)')
            [CompletionResult]::new('--unsubscribe', '--unsubscribe', [CompletionResultType]::ParameterName, 'Unsubscribe from this filter after subscribing (repeatable)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Requested QoS of the subscriptions')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Requested QoS of the subscriptions')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Exit after this many messages')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Exit after this many seconds (status 27)')
            [CompletionResult]::new('--random-filter', '--random-filter', [CompletionResultType]::ParameterName, 'Print only this percentage of messages, chosen at random (0.1 to 100)')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output format (see the -F specifiers of mosquitto_sub)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host name or address')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host name or address')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Broker port (1883, or 8883 when TLS is in use)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Broker port (1883, or 8883 when TLS is in use)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)')
            [CompletionResult]::new('--pw-file', '--pw-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of this file')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: mqttv31, mqttv311 or mqttv5')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: mqttv31, mqttv311 or mqttv5')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier (default: generated, or assigned by the broker in v5)')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier (default: generated, or assigned by the broker in v5)')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Client identifier prefix; the process id is appended')
            [CompletionResult]::new('--id-prefix', '--id-prefix', [CompletionResultType]::ParameterName, 'Client identifier prefix; the process id is appended')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep-alive interval in seconds (5 to 65535)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep-alive interval in seconds (5 to 65535)')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'v5 session expiry interval in seconds; -1 means never')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'Add an MQTT v5 property: CMD ID VALUE, or CMD user-property NAME VALUE')
            [CompletionResult]::new('--property', '--property', [CompletionResultType]::ParameterName, 'Add an MQTT v5 property: CMD ID VALUE, or CMD user-property NAME VALUE')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'URL `mqtt(s)://[user[:password]@]host[:port]/topic`')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'URL `mqtt(s)://[user[:password]@]host[:port]/topic`')
            [CompletionResult]::new('-M', '-M ', [CompletionResultType]::ParameterName, 'Maximum QoS 1/2 messages in flight')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Bind the outgoing socket to this local address')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Connect over this unix socket instead of TCP')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol to offer')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'PEM file of trusted CA certificates; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of PEM CA certificates; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM), for brokers that require one')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'TLS version: tlsv1.2 or tlsv1.3')
            [CompletionResult]::new('--will-topic', '--will-topic', [CompletionResultType]::ParameterName, 'Topic of the will message')
            [CompletionResult]::new('--will-payload', '--will-payload', [CompletionResultType]::ParameterName, 'Payload of the will message')
            [CompletionResult]::new('--will-qos', '--will-qos', [CompletionResultType]::ParameterName, 'QoS of the will message')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Do not print retained messages')
            [CompletionResult]::new('--retained-only', '--retained-only', [CompletionResultType]::ParameterName, 'Only print retained messages; exit at the first live one')
            [CompletionResult]::new('--remove-retained', '--remove-retained', [CompletionResultType]::ParameterName, 'Clear every retained message received')
            [CompletionResult]::new('-E', '-E ', [CompletionResultType]::ParameterName, 'Exit right after the subscription is acknowledged')
            [CompletionResult]::new('--retain-as-published', '--retain-as-published', [CompletionResultType]::ParameterName, 'v5: keep the retain flag as published')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the topic before the payload')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the topic before the payload')
            [CompletionResult]::new('-N', '-N ', [CompletionResultType]::ParameterName, 'Do not print a newline after each message')
            [CompletionResult]::new('--pretty', '--pretty', [CompletionResultType]::ParameterName, 'Pretty-print %j and %J JSON')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object per message (NDJSON): payload as JSON when it parses, else as a string, base64 for binary')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Keep the session after disconnecting (clean session off); needs -i')
            [CompletionResult]::new('--disable-clean-session', '--disable-clean-session', [CompletionResultType]::ParameterName, 'Keep the session after disconnecting (clean session off); needs -i')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Print the protocol exchange on stdout')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Print the protocol exchange on stdout')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'Disable Nagle''s algorithm')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print runtime errors')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check that the server certificate''s name matches the host')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Trust the operating system''s CA certificates; enables TLS')
            [CompletionResult]::new('--will-retain', '--will-retain', [CompletionResultType]::ParameterName, 'Retain the will message')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;rr' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Response topic to subscribe to and name in the request')
            [CompletionResult]::new('--response-topic', '--response-topic', [CompletionResultType]::ParameterName, 'Response topic to subscribe to and name in the request')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Request topic')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Request topic')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Request payload')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Request payload')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Send the whole file as the request')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Send the whole file as the request')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'QoS of the request and of the response subscription')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'QoS of the request and of the response subscription')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Give up after this many seconds (status 27)')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output format (see the -F specifiers of mosquitto_sub)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host name or address')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host name or address')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Broker port (1883, or 8883 when TLS is in use)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Broker port (1883, or 8883 when TLS is in use)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)')
            [CompletionResult]::new('--pw-file', '--pw-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of this file')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: mqttv31, mqttv311 or mqttv5')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: mqttv31, mqttv311 or mqttv5')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier (default: generated, or assigned by the broker in v5)')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier (default: generated, or assigned by the broker in v5)')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Client identifier prefix; the process id is appended')
            [CompletionResult]::new('--id-prefix', '--id-prefix', [CompletionResultType]::ParameterName, 'Client identifier prefix; the process id is appended')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep-alive interval in seconds (5 to 65535)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep-alive interval in seconds (5 to 65535)')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'v5 session expiry interval in seconds; -1 means never')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'Add an MQTT v5 property: CMD ID VALUE, or CMD user-property NAME VALUE')
            [CompletionResult]::new('--property', '--property', [CompletionResultType]::ParameterName, 'Add an MQTT v5 property: CMD ID VALUE, or CMD user-property NAME VALUE')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'URL `mqtt(s)://[user[:password]@]host[:port]/topic`')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'URL `mqtt(s)://[user[:password]@]host[:port]/topic`')
            [CompletionResult]::new('-M', '-M ', [CompletionResultType]::ParameterName, 'Maximum QoS 1/2 messages in flight')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Bind the outgoing socket to this local address')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Connect over this unix socket instead of TCP')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol to offer')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'PEM file of trusted CA certificates; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of PEM CA certificates; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM), for brokers that require one')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'TLS version: tlsv1.2 or tlsv1.3')
            [CompletionResult]::new('--will-topic', '--will-topic', [CompletionResultType]::ParameterName, 'Topic of the will message')
            [CompletionResult]::new('--will-payload', '--will-payload', [CompletionResultType]::ParameterName, 'Payload of the will message')
            [CompletionResult]::new('--will-qos', '--will-qos', [CompletionResultType]::ParameterName, 'QoS of the will message')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Send all of stdin as the request')
            [CompletionResult]::new('--stdin-file', '--stdin-file', [CompletionResultType]::ParameterName, 'Send all of stdin as the request')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Send a zero-length request')
            [CompletionResult]::new('--null-message', '--null-message', [CompletionResultType]::ParameterName, 'Send a zero-length request')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Ignore retained responses')
            [CompletionResult]::new('--retain-as-published', '--retain-as-published', [CompletionResultType]::ParameterName, 'v5: keep the retain flag as published')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the topic before the payload')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the topic before the payload')
            [CompletionResult]::new('-N', '-N ', [CompletionResultType]::ParameterName, 'Do not print a newline after each message')
            [CompletionResult]::new('--pretty', '--pretty', [CompletionResultType]::ParameterName, 'Pretty-print %j and %J JSON')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object per message (NDJSON): payload as JSON when it parses, else as a string, base64 for binary')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Keep the session after disconnecting (clean session off); needs -i')
            [CompletionResult]::new('--disable-clean-session', '--disable-clean-session', [CompletionResultType]::ParameterName, 'Keep the session after disconnecting (clean session off); needs -i')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Print the protocol exchange on stdout')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Print the protocol exchange on stdout')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'Disable Nagle''s algorithm')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print runtime errors')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check that the server certificate''s name matches the host')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Trust the operating system''s CA certificates; enables TLS')
            [CompletionResult]::new('--will-retain', '--will-retain', [CompletionResultType]::ParameterName, 'Retain the will message')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;meteo' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host name or address')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host name or address')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Broker port (1883, or 8883 when TLS is in use)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Broker port (1883, or 8883 when TLS is in use)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)')
            [CompletionResult]::new('--pw-file', '--pw-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of this file')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: mqttv31, mqttv311 or mqttv5')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: mqttv31, mqttv311 or mqttv5')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'PEM file of trusted CA certificates; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of PEM CA certificates; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM), for brokers that require one')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'TLS version: tlsv1.2 or tlsv1.3')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client id (default: mq-meteo-PID)')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client id (default: mq-meteo-PID)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keepalive in seconds')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keepalive in seconds')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'QoS of the publishes')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'QoS of the publishes')
            [CompletionResult]::new('--station', '--station', [CompletionResultType]::ParameterName, 'Station id (IDEMA) whose current observation is published; repeatable')
            [CompletionResult]::new('--municipality', '--municipality', [CompletionResultType]::ParameterName, 'Municipality INE code whose daily and hourly forecast is published; repeatable')
            [CompletionResult]::new('--near', '--near', [CompletionResultType]::ParameterName, 'Use the nearest station reporting temperature and the nearest municipality')
            [CompletionResult]::new('--max-distance', '--max-distance', [CompletionResultType]::ParameterName, 'Maximum distance for --near, in km')
            [CompletionResult]::new('--api-key-file', '--api-key-file', [CompletionResultType]::ParameterName, 'Read the AEMET API key from the first line of this file')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'AEMET API key (prefer --api-key-file or AEMET_API_KEY, which stay out of `ps`)')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'AEMET OpenData base URL')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Topic prefix')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Observation polling interval of the service mode')
            [CompletionResult]::new('--forecast-interval', '--forecast-interval', [CompletionResultType]::ParameterName, 'Forecast polling interval of the service mode')
            [CompletionResult]::new('--discovery-prefix', '--discovery-prefix', [CompletionResultType]::ParameterName, 'Home Assistant discovery prefix')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory (default $XDG_CACHE_HOME/mq/meteo)')
            [CompletionResult]::new('--request-interval', '--request-interval', [CompletionResultType]::ParameterName, 'Minimum spacing of AEMET requests')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout of one HTTP request')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries of a failed request (429, 5xx and network errors only)')
            [CompletionResult]::new('--backoff', '--backoff', [CompletionResultType]::ParameterName, 'First wait before retrying a 5xx or network error; doubled each time')
            [CompletionResult]::new('--backoff-429', '--backoff-429', [CompletionResultType]::ParameterName, 'Wait before retrying after a 429 (AEMET''s quota is per minute)')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'The current time, RFC 3339 (for reproducible runs)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check that the server certificate''s name matches the host')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Trust the operating system''s CA certificates; enables TLS')
            [CompletionResult]::new('--all-stations', '--all-stations', [CompletionResultType]::ParameterName, 'Publish every station of observacion/convencional/todas')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Fetch, publish, wait for acknowledgements and exit (for cron)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print `topic payload` lines instead of publishing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Publish even what has not changed since the last publish')
            [CompletionResult]::new('--discovery', '--discovery', [CompletionResultType]::ParameterName, 'Publish Home Assistant MQTT discovery configs')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;bench' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host name or address')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host name or address')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Broker port (1883, or 8883 when TLS is in use)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Broker port (1883, or 8883 when TLS is in use)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`)')
            [CompletionResult]::new('--pw-file', '--pw-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of this file')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: mqttv31, mqttv311 or mqttv5')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: mqttv31, mqttv311 or mqttv5')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'PEM file of trusted CA certificates; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of PEM CA certificates; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM), for brokers that require one')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'TLS version: tlsv1.2 or tlsv1.3')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Number of clients (publishers in pubsub)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Number of clients (publishers in pubsub)')
            [CompletionResult]::new('--subscribers', '--subscribers', [CompletionResultType]::ParameterName, 'Subscribers in pubsub (default: as many as publishers)')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Connections started per second (0: as fast as the broker accepts them)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Topic template: %i is the client number, %c the client id')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic template: %i is the client number, %c the client id')
            [CompletionResult]::new('--sub-topic', '--sub-topic', [CompletionResultType]::ParameterName, 'Subscription filter template for subscribers (default: the -t template)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Payload size in bytes (at least 8 carry a timestamp for latency)')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'Payload size in bytes (at least 8 carry a timestamp for latency)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'QoS of publications and subscriptions')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'QoS of publications and subscriptions')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Interval between publishes of one client (e.g. 1s, 10ms; 0: as fast as --inflight allows)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Interval between publishes of one client (e.g. 1s, 10ms; 0: as fast as --inflight allows)')
            [CompletionResult]::new('--msg-rate', '--msg-rate', [CompletionResultType]::ParameterName, 'Total messages per second over all publishers (overrides -I)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Stop after this many messages in total (sent by publishers, received in `sub`)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Stop after this many messages in total (sent by publishers, received in `sub`)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Run this long once every client is connected (e.g. 30s, 2m)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Run this long once every client is connected (e.g. 30s, 2m)')
            [CompletionResult]::new('--inflight', '--inflight', [CompletionResultType]::ParameterName, 'Most unacknowledged QoS 1/2 messages per publisher')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keepalive in seconds')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keepalive in seconds')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Client id prefix (default: mqbench-PID-)')
            [CompletionResult]::new('--start-number', '--start-number', [CompletionResultType]::ParameterName, 'Number of the first client')
            [CompletionResult]::new('--ifaddr', '--ifaddr', [CompletionResultType]::ParameterName, 'Local addresses to spread connections over, comma separated')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a TCP connection and its CONNACK')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check that the server certificate''s name matches the host')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Trust the operating system''s CA certificates; enables TLS')
            [CompletionResult]::new('--clean', '--clean', [CompletionResultType]::ParameterName, 'Start clean sessions (default)')
            [CompletionResult]::new('--no-clean', '--no-clean', [CompletionResultType]::ParameterName, 'Keep sessions (clean session / clean start off)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the summary as one JSON object')
            [CompletionResult]::new('--json-every-second', '--json-every-second', [CompletionResultType]::ParameterName, 'Print one JSON line per second on stdout')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No per-second output')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;generate-docs' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory that receives `man/` and `completions/`')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;help' {
            [CompletionResult]::new('broker', 'broker', [CompletionResultType]::ParameterValue, 'Run an MQTT broker')
            [CompletionResult]::new('passwd', 'passwd', [CompletionResultType]::ParameterValue, 'Manage a mosquitto password file (mosquitto_passwd''s interface)')
            [CompletionResult]::new('pub', 'pub', [CompletionResultType]::ParameterValue, 'Publish a message (mosquitto_pub)')
            [CompletionResult]::new('sub', 'sub', [CompletionResultType]::ParameterValue, 'Subscribe and print messages (mosquitto_sub)')
            [CompletionResult]::new('rr', 'rr', [CompletionResultType]::ParameterValue, 'Send a request and print the response (mosquitto_rr)')
            [CompletionResult]::new('meteo', 'meteo', [CompletionResultType]::ParameterValue, 'Publish AEMET forecasts and observations over MQTT')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Load-test a broker: hold connections, publish, subscribe, measure')
            [CompletionResult]::new('generate-docs', 'generate-docs', [CompletionResultType]::ParameterValue, 'Regenerate the man pages and shell completions from these definitions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mq;help;broker' {
            break
        }
        'mq;help;passwd' {
            break
        }
        'mq;help;pub' {
            break
        }
        'mq;help;sub' {
            break
        }
        'mq;help;rr' {
            break
        }
        'mq;help;meteo' {
            break
        }
        'mq;help;bench' {
            break
        }
        'mq;help;generate-docs' {
            break
        }
        'mq;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}

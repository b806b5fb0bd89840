//! Tests of the option parser as a whole: listeners, limits, security, TLS, logging, include_dir.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse_str(text, Path::new("test.conf"))
}

#[test]
fn defaults_match_mosquitto() {
    let c = Config::default();
    assert_eq!(c.max_inflight_messages, 20);
    assert_eq!(c.max_queued_messages, 1000);
    assert_eq!(c.sys_interval, 10);
    assert_eq!(
        c.effective_listeners(&[]),
        vec![ListenerConfig::loopback(1883)]
    );
    assert_eq!(
        c.effective_listeners(&[1884, 1885])[1],
        ListenerConfig::loopback(1885)
    );
}

#[test]
fn parses_listeners_and_limits() {
    let c = parse(
        "# comment\n\nlistener 1884 0.0.0.0\nmax_connections 10\nlistener 1885\n\
         socket_domain ipv6\nmax_queued_messages 5\npersistence true\n\
         persistence_location /tmp/x\nsys_interval 0\n",
    )
    .unwrap();
    assert_eq!(c.listeners.len(), 2);
    assert_eq!(c.listeners[0].bind.as_deref(), Some("0.0.0.0"));
    assert_eq!(c.listeners[0].max_connections, Some(10));
    assert_eq!(c.listeners[1].domain, Some(Domain::V6));
    assert_eq!(c.max_queued_messages, 5);
    assert!(c.persistence);
    assert_eq!(c.store_path(), PathBuf::from("/tmp/x/mq.db"));
    assert_eq!(c.sys_interval, 0);
    assert_eq!(c.effective_listeners(&[1]).len(), 2);
}

#[test]
fn port_and_bind_address_make_the_default_listener() {
    let c = parse("port 1999\nbind_address 127.0.0.1\n").unwrap();
    assert_eq!(c.listeners, vec![ListenerConfig::loopback(1999)]);
}

#[test]
fn unknown_option_names_file_and_line() {
    let e = parse("port 1883\n\nfrobnicate yes\n").unwrap_err();
    assert_eq!(e.line, 3);
    assert_eq!(e.to_string(), "test.conf:3: unknown option 'frobnicate'");
}

#[test]
fn malformed_values_are_errors() {
    assert_eq!(parse("max_queued_messages lots").unwrap_err().line, 1);
    assert_eq!(parse("persistence yes").unwrap_err().line, 1);
    assert_eq!(parse("listener").unwrap_err().line, 1);
    assert_eq!(parse("max_packet_size 10").unwrap_err().line, 1);
    assert!(
        parse("socket_domain ipv4").is_err(),
        "needs a listener first"
    );
}

#[test]
fn errors_name_the_value_and_the_reason() {
    let msg = |text: &str| parse(text).unwrap_err().to_string();
    assert_eq!(
        msg("#\n\n\nlistener 99999\n"),
        "test.conf:4: port 99999 is out of range 1-65535"
    );
    assert_eq!(
        msg("listener 1883\n\n\n\nlistener 1883 300.1.2.3\n"),
        "test.conf:5: cannot listen on 300.1.2.3:1883: not an IPv4 or IPv6 address"
    );
    assert!(msg("listener 0").ends_with("port 0 is out of range 1-65535"));
    assert!(msg("port -1").ends_with("port -1 is out of range 1-65535"));
    assert!(msg("listener x1").ends_with("invalid port 'x1' (expected a number 1-65535)"));
    assert!(msg("listener 1 ::1x").contains("not an IPv4 or IPv6 address"));
    assert!(msg("listener 1 bad_host").contains("or a host name"));
    assert!(msg("bind_address 1.2.3.4.5").contains("cannot listen on 1.2.3.4.5:1883"));
    assert_eq!(
        msg("max_inflight_messages 70000"),
        "test.conf:1: max_inflight_messages 70000 is out of range 0-65535"
    );
    let ok = parse("listener 1883 ::1\nlistener 1884 localhost\nlistener 1885 10.0.0.1\n");
    assert_eq!(ok.unwrap().listeners[1].bind.as_deref(), Some("localhost"));
}

#[test]
fn comments_may_hold_any_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("latin1.conf");
    std::fs::write(&f, b"# caf\xe9 \xff\xfe\nmax_queued_messages 9\n").unwrap();
    assert_eq!(Config::from_file(&f).unwrap().max_queued_messages, 9);
    std::fs::write(&f, b"# ok\nauto_id_prefix caf\xe9\n").unwrap();
    let e = Config::from_file(&f).unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("not valid UTF-8"), "{e}");
}

#[test]
fn security_options_are_global_by_default() {
    let c = parse("password_file /etc/pw\nacl_file acl\nlistener 1883 127.0.0.1\n").unwrap();
    assert_eq!(c.password_file, Some(PathBuf::from("/etc/pw")));
    assert_eq!(c.acl_file, Some(PathBuf::from("acl")));
    assert!(
        !c.allow_anonymous,
        "a file with listeners refuses anonymous by default"
    );
    assert!(
        parse("listener 1\nallow_anonymous true")
            .unwrap()
            .allow_anonymous
    );
    assert!(parse("max_queued_messages 5").unwrap().allow_anonymous);
    assert!(parse("allow_anonymous maybe").is_err());
}

#[test]
fn per_listener_settings_attach_security_to_the_listener() {
    let c = parse(
        "per_listener_settings true\nlistener 1\nallow_anonymous true\n\
         listener 2\npassword_file pw\nacl_file acl\n",
    )
    .unwrap();
    assert!(c.per_listener_settings && c.password_file.is_none());
    assert_eq!(c.listeners[0].security.allow_anonymous, Some(true));
    assert_eq!(c.listeners[1].security.allow_anonymous, None);
    assert_eq!(
        c.listeners[1].security.password_file,
        Some(PathBuf::from("pw"))
    );
    let e = parse("listener 1\nper_listener_settings true").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn tls_options_belong_to_their_listener() {
    let c = parse(
        "listener 1883 127.0.0.1\nlistener 8883\ncertfile s.pem\nkeyfile s.key\n\
         cafile ca.pem\nrequire_certificate true\nuse_identity_as_username true\n\
         tls_version tlsv1.3\n",
    )
    .unwrap();
    assert!(c.listeners[0].tls.is_none());
    let t = c.listeners[1].tls.as_ref().unwrap();
    assert_eq!(t.certfile, PathBuf::from("s.pem"));
    assert_eq!(t.cafile, Some(PathBuf::from("ca.pem")));
    assert!(t.require_certificate && c.listeners[1].use_identity_as_username);
    assert_eq!(
        t.tls_version,
        crate::broker::security::tls::MinTlsVersion::V13
    );
    let e = parse("listener 8883\ntls_version sslv3").unwrap_err();
    assert_eq!((e.line, e.message.contains("tlsv1.2")), (2, true), "{e}");
    let e = parse("listener 8883\ncertfile s.pem").unwrap_err();
    assert!(
        e.to_string()
            .contains("port 8883: both certfile and keyfile"),
        "{e}"
    );
    let e = parse("listener 8883\nuse_identity_as_username true").unwrap_err();
    assert!(e.message.contains("need a TLS listener"), "{e}");
    // As mosquitto: without require_certificate a client without a certificate is
    // refused at CONNECT, not at start.
    let c = parse("listener 8883\ncertfile a\nkeyfile b\nuse_identity_as_username true");
    assert!(c.is_ok(), "{c:?}");
    let e = parse("listener 8883\ncertfile a\nkeyfile b\nrequire_certificate true").unwrap_err();
    assert!(e.message.contains("needs cafile or capath"), "{e}");
}

#[test]
fn tls_options_of_mosquitto_are_read_or_refused_with_a_reason() {
    let c = parse(
        "listener 8883\ncertfile s.pem\nkeyfile s.key\ncafile ca.pem\n\
         require_certificate true\ncrlfile crl.pem\nuse_subject_as_username true\n\
         ciphers ECDHE-RSA-AES128-GCM-SHA256:!aNULL\nciphers_tls1.3 TLS_AES_128_GCM_SHA256\n\
         tls_keylog keys.log\ndhparamfile dh.pem\n",
    )
    .unwrap();
    let l = &c.listeners[0];
    let t = l.tls.as_ref().unwrap();
    assert_eq!(t.crlfile, Some(PathBuf::from("crl.pem")));
    assert_eq!(t.keylog, Some(PathBuf::from("keys.log")));
    assert_eq!(
        t.ciphers.as_deref(),
        Some("ECDHE-RSA-AES128-GCM-SHA256:!aNULL")
    );
    assert_eq!(t.ciphers_tls13.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(
        l.cert_identity(),
        crate::broker::security::tls::CertIdentity::Subject
    );
    let e = parse("listener 8883\nciphers AES128-SHA").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("'AES128-SHA'"), "{e}");
    let e = parse("listener 8883\nciphers_tls1.3 ECDHE-RSA-AES128-GCM-SHA256").unwrap_err();
    assert!(e.message.contains("TLS 1.2 suite"), "{e}");
    for psk in ["psk_hint hint", "psk_file psk.txt"] {
        let e = parse(&format!("listener 8883\n{psk}")).unwrap_err();
        assert!(
            e.message.contains("rustls") && e.message.contains("pre-shared key"),
            "{e}"
        );
    }
}

#[test]
fn log_type_replaces_defaults() {
    let c = parse("log_type debug\n").unwrap();
    assert!(c.log.debug && !c.log.info && !c.log.error && !c.log.warning);
    let c = parse("log_type error\nlog_type warning\n").unwrap();
    assert!(c.log.error && c.log.warning && !c.log.info && !c.log.subscribe);
    let c = parse("log_type information\n").unwrap();
    assert!(c.log.info && !c.log.error);
    let c = parse("log_type all\nlog_dest stdout\nconnection_messages false").unwrap();
    assert!(c.log.debug && c.log.info && c.log.subscribe);
    assert_eq!(c.log_output.dests, vec![LogDest::Stdout]);
    assert!(!c.log.connection_messages);
}

#[test]
fn include_dir_reads_sorted_conf_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.conf"), "max_queued_messages 7\n").unwrap();
    std::fs::write(dir.path().join("a.conf"), "max_queued_messages 3\n").unwrap();
    std::fs::write(dir.path().join("c.txt"), "nonsense\n").unwrap();
    let top = tempfile::tempdir().unwrap();
    let main = top.path().join("main.conf");
    std::fs::write(&main, format!("include_dir {}\n", dir.path().display())).unwrap();
    let c = Config::from_file(&main).unwrap();
    assert_eq!(c.max_queued_messages, 7);
    std::fs::write(dir.path().join("d.conf"), "\nbogus 1\n").unwrap();
    let e = Config::from_file(&main).unwrap_err();
    assert!(e.message.contains("d.conf:2: unknown option"), "{e}");
    std::fs::write(
        dir.path().join("d.conf"),
        format!("include_dir {}\n", dir.path().display()),
    )
    .unwrap();
    let e = Config::from_file(&main).unwrap_err();
    assert!(e.to_string().contains("nested too deeply"), "{e}");
}

#[test]
fn log_dest_lines_add_up_after_replacing_stderr() {
    assert_eq!(Config::default().log_output.dests, vec![LogDest::Stderr]);
    let c = parse(
        "log_dest file /var/log/mosquitto/mosquitto.log\nlog_dest syslog\nlog_dest topic\n\
         log_dest stdout\nlog_dest syslog\nlog_timestamp_format %Y-%m-%dT%H:%M:%S\n",
    )
    .unwrap();
    assert_eq!(
        c.log_output.dests,
        vec![
            LogDest::File(PathBuf::from("/var/log/mosquitto/mosquitto.log")),
            LogDest::Syslog,
            LogDest::Topic,
            LogDest::Stdout,
        ]
    );
    assert_eq!(
        c.log_output.timestamp_format.as_deref(),
        Some("%Y-%m-%dT%H:%M:%S")
    );
    let c = parse("log_dest stdout\nlog_dest none\nlog_timestamp false\n").unwrap();
    assert!(c.log_output.dests.is_empty() && !c.log_output.timestamp);
    let msg = |text: &str| parse(text).unwrap_err().to_string();
    assert!(msg("log_dest file").ends_with(":1: log_dest file needs a path"));
    assert!(msg("log_dest pigeon").contains("invalid log_dest value 'pigeon'"));
    assert!(msg("log_dest dlt").contains("log_dest dlt"));
    assert!(msg("\nlog_timestamp yes").starts_with("test.conf:2: invalid log_timestamp value"));
    assert!(msg("log_timestamp_format %Y-%").contains("invalid log_timestamp_format value"));
}

#[test]
fn daemon_options_are_read() {
    let c = parse("pid_file /run/mosquitto/mosquitto.pid\nuser root\n").unwrap();
    assert_eq!(
        c.pid_file,
        Some(PathBuf::from("/run/mosquitto/mosquitto.pid"))
    );
    assert_eq!(c.user, "root");
    assert_eq!(Config::default().user, "mosquitto");
    assert!(parse("pid_file").is_err());
    let c = parse("listener 1883\nbind_interface lo\n").unwrap();
    assert_eq!(c.listeners[0].bind_interface.as_deref(), Some("lo"));
    assert!(parse("bind_interface a/b").is_err());
}

#[test]
fn a_missing_user_is_an_error_as_root() {
    let r = parse("# x\nuser no-such-user-for-mq\n");
    if crate::account::is_root() {
        let e = r.unwrap_err().to_string();
        assert_eq!(e, "test.conf:2: user 'no-such-user-for-mq' does not exist");
    } else {
        assert!(r.is_ok(), "not root: the user is not needed");
    }
}

#[test]
fn options_without_effect_are_noted_once_with_their_line() {
    let c = parse(
        "autosave_interval 60\nautosave_on_changes false\nset_tcp_nodelay false\n\
         set_tcp_nodelay true\nupgrade_outgoing_qos false\ncheck_retain_source false\n\
         max_inflight_bytes 0\nmemory_limit 0\nmax_inflight_bytes 1000\n",
    )
    .unwrap();
    assert_eq!(c.autosave_interval, 60);
    assert_eq!(c.notes.len(), 3, "{:?}", c.notes);
    assert!(c.notes[0].starts_with("test.conf:1: autosave_interval: ignored"));
    assert!(c.notes[2].starts_with("test.conf:3: set_tcp_nodelay: ignored"));
    for (text, expected) in [
        ("memory_limit 1", "memory_limit 1: not supported"),
        ("plugin /x.so", "plugin: not supported yet"),
        (
            "autosave_interval often",
            "invalid autosave_interval value 'often'",
        ),
    ] {
        let e = parse(text).unwrap_err().to_string();
        assert!(e.starts_with(&format!("test.conf:1: {expected}")), "{e}");
    }
}

#[test]
fn a_missing_include_dir_is_an_error() {
    let e = parse("\ninclude_dir /nonexistent/mq-conf.d\n").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(
        e.message
            .starts_with("cannot read include_dir /nonexistent/mq-conf.d"),
        "{e}"
    );
}

#[test]
fn max_inflight_bytes_is_a_limit() {
    assert_eq!(Config::default().max_inflight_bytes, 0);
    assert_eq!(
        parse("max_inflight_bytes 1000\n")
            .unwrap()
            .max_inflight_bytes,
        1000
    );
    let huge = parse("max_inflight_bytes 99999999999\n").unwrap();
    assert_eq!(huge.max_inflight_bytes, u32::MAX);
    assert!(huge.notes.is_empty(), "{:?}", huge.notes);
    let e = parse("max_inflight_bytes -1\n").unwrap_err().to_string();
    assert!(
        e.starts_with("test.conf:1: max_inflight_bytes -1 is out of range"),
        "{e}"
    );
}

#[test]
fn mount_point_belongs_to_its_listener() {
    let c = parse("listener 1884\nlistener 1885\nmount_point site/a b/\nlistener 1886\n").unwrap();
    let mounts: Vec<_> = (c.listeners.iter())
        .map(|l| l.mount_point.as_deref())
        .collect();
    assert_eq!(mounts, [None, Some("site/a b/"), None]);
    for (text, expected) in [
        (
            "mount_point site/\n",
            "test.conf:1: mount_point must follow a listener line",
        ),
        (
            "listener 1884\nmount_point site/#\n",
            "test.conf:2: invalid mount_point 'site/#': wildcard in topic name \
             (does it contain a wildcard character?)",
        ),
        (
            "listener 1884\nmount_point\n",
            "test.conf:2: empty mount_point value",
        ),
    ] {
        assert_eq!(parse(text).unwrap_err().to_string(), expected);
    }
}

//! Scripted QoS 1/2 redelivery with the paho-mqtt Python client.

mod common;

use common::*;

#[test]
fn paho_client_gets_unacked_qos1_again_with_dup_and_qos2_exactly_once() {
    if !require(&[Peer::Paho]) {
        return;
    }
    let b = TestBroker::mq(Conf::new());
    let port = b.port();
    common::run_paho_script("paho_redelivery.py", 30, &[port.to_string()], "");
}

"""QoS 1/2 redelivery against a broker with the paho-mqtt client.

Usage: paho_redelivery.py PORT. Prints OK or exits non-zero with the reason.
"""
import socket
import sys
import threading
import time

import paho.mqtt.client as mqtt

PORT = int(sys.argv[1])


def client(cid, clean):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, clean_session=clean)
    got = []
    ev = threading.Event()

    def on_message(_c, _u, msg):
        got.append((msg.topic, msg.payload, msg.qos, msg.dup, msg.mid))
        ev.set()

    c.on_message = on_message
    c.subscribed = threading.Event()
    c.on_subscribe = lambda *_args: c.subscribed.set()
    return c, got, ev


def wait_for(pred, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


# 1. A persistent subscriber that does not acknowledge: the message comes again with DUP.
sub, got, _ = client("paho-sub", False)
sub.manual_ack_set(True)
sub.connect("127.0.0.1", PORT, keepalive=30)
sub.loop_start()
sub.subscribe("paho/#", qos=2)
# Wait for the SUBACK rather than sleeping: under a loaded machine a fixed pause loses the race.
if not sub.subscribed.wait(10):
    fail("no SUBACK")

pub, _, _ = client("paho-pub", True)
pub.connect("127.0.0.1", PORT)
pub.loop_start()
info = pub.publish("paho/q1", b"one", qos=1)
info.wait_for_publish(5)
if not wait_for(lambda: len(got) == 1):
    fail("first delivery missing")
# Drop the connection without acknowledging, as a client that dies does: half-close it and
# wait until the broker closes its side, by when it has detached the session.
lost = threading.Event()
sub.on_disconnect = lambda *_a: lost.set()
sub._sock.shutdown(socket.SHUT_WR)
if not lost.wait(10):
    fail("the broker never closed the dropped connection")
sub.loop_stop()

for i in range(5):
    pub.publish("paho/q2", b"n%d" % i, qos=2).wait_for_publish(5)

sub2, got2, _ = client("paho-sub", False)
sub2.connect("127.0.0.1", PORT, keepalive=30)
sub2.loop_start()
if not wait_for(lambda: len(got2) >= 6):
    fail("redelivery incomplete: %r" % got2)
# A marker published now comes after anything still owed to the session (delivery is in
# order), so a duplicate would show up before it.
pub.publish("paho/end", b"mark", qos=1).wait_for_publish(5)
if not wait_for(lambda: any(g[0] == "paho/end" for g in got2)):
    fail("marker missing: %r" % got2)
got2 = [g for g in got2 if g[0] != "paho/end"]
sub2.loop_stop()
pub.loop_stop()
first = got2[0]
if first[0] != "paho/q1" or not first[3]:
    fail("unacknowledged QoS 1 not resent with DUP first: %r" % (first,))
payloads = [g[1] for g in got2[1:]]
if payloads != [b"n%d" % i for i in range(5)]:
    fail("QoS 2 messages not exactly once in order: %r" % payloads)
print("OK")

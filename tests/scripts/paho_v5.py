"""MQTT 5.0 session expiry and will delay against a broker with the paho-mqtt client.

Usage: paho_v5.py PORT. Prints OK or exits non-zero with the reason.
"""
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

PORT = int(sys.argv[1])


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def connect(cid, clean, expiry, will_delay=None):
    """Connects a v5 client; returns it and its CONNACK session-present flag."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
    present = {}
    done = threading.Event()

    def on_connect(_c, _u, flags, reason, _p):
        present["v"] = flags.session_present
        done.set()

    c.on_connect = on_connect
    if will_delay is not None:
        wp = Properties(PacketTypes.WILLMESSAGE)
        wp.WillDelayInterval = will_delay
        c.will_set("pw/will", b"bye", qos=0, properties=wp)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry
    c.connect("127.0.0.1", PORT, keepalive=30, clean_start=clean, properties=props)
    c.loop_start()
    if not done.wait(5):
        fail(f"{cid}: no CONNACK")
    return c, present["v"]


def stop(c, reason=None):
    """Disconnects and returns once the network loop has sent DISCONNECT and closed."""
    gone = threading.Event()
    c.on_disconnect = lambda *_a: gone.set()
    if reason is None:
        c.disconnect()
    else:
        c.disconnect(reasoncode=reason)
    if not gone.wait(5):
        fail("DISCONNECT never went out")
    c.loop_stop()


def session_expiry():
    c, _ = connect("pse", True, 1)
    stop(c)
    c, present = connect("pse", False, 1)
    if not present:
        fail("session gone right after disconnect despite expiry 1")
    stop(c)
    # Time is the behaviour here: the 1 s expiry runs out (a reconnection to check earlier
    # would resume the session).
    time.sleep(1.8)
    c, present = connect("pse", False, 1)
    if present:
        fail("session still there after its 1 s expiry")
    stop(c)


def will_delay():
    watcher, _ = connect("pw-watch", True, 0)
    got = []
    ev = threading.Event()

    def on_message(_c, _u, msg):
        got.append((time.time(), msg.payload))
        ev.set()

    subscribed = threading.Event()
    watcher.on_message = on_message
    watcher.on_subscribe = lambda *_a: subscribed.set()
    watcher.subscribe("pw/#")
    if not subscribed.wait(5):
        fail("no SUBACK")
    c, _ = connect("pw-client", True, 10, will_delay=1)
    start = time.time()
    stop(c, ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message"))
    if not ev.wait(5):
        fail("will never came")
    waited = got[0][0] - start
    if waited < 0.9:
        fail(f"will after {waited:.2f} s, before its 1 s delay")
    # Reconnecting within the delay cancels the will.
    ev.clear()
    c, _ = connect("pw-client2", True, 10, will_delay=1)
    stop(c, ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message"))
    c, present = connect("pw-client2", False, 10)
    if not present:
        fail("session lost on reconnect")
    if ev.wait(1.6):
        fail("will sent although the client came back within the delay")
    stop(c)
    stop(watcher)


session_expiry()
will_delay()
print("OK")

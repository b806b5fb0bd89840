"""Topic aliases from a broker to a paho-mqtt v5 subscriber.

Usage: paho_topic_alias.py PORT. The subscriber allows 2 aliases; a publisher sends 4 rounds
over 3 topics. paho hands an aliased message to the application with an empty topic and the
alias in its properties, so the script keeps the alias table itself and checks every message
comes out under the topic it was published to, with no alias above 2. Prints OK or exits
non-zero with the reason.
"""
import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

PORT = int(sys.argv[1])
TOPICS = ["pta/one", "pta/two", "pta/three"]
ROUNDS = 4


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def client(cid, alias_max):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    if alias_max:
        props.TopicAliasMaximum = alias_max
    up = threading.Event()
    c.on_connect = lambda *_a: up.set()
    c.connect("127.0.0.1", PORT, keepalive=30, properties=props)
    c.loop_start()
    if not up.wait(5):
        fail(f"{cid}: no CONNACK")
    return c


def main():
    got = []
    aliases = {}
    lock = threading.Lock()
    all_in = threading.Event()
    subscribed = threading.Event()

    def on_message(_c, _u, msg):
        alias = getattr(msg.properties, "TopicAlias", None) if msg.properties else None
        topic = msg.topic
        with lock:
            if alias is not None:
                if alias < 1 or alias > 2:
                    got.append(f"alias {alias} over the maximum")
                elif topic:
                    aliases[alias] = topic
                else:
                    topic = aliases.get(alias, f"unknown alias {alias}")
            got.append((topic, msg.payload.decode(), alias, msg.topic == ""))
            if len(got) >= ROUNDS * len(TOPICS):
                all_in.set()

    sub = client("pta-sub", 2)
    sub.on_message = on_message
    sub.on_subscribe = lambda *_a: subscribed.set()
    sub.subscribe("pta/#", qos=1)
    if not subscribed.wait(5):
        fail("no SUBACK")
    pub = client("pta-pub", 0)
    want = []
    for r in range(ROUNDS):
        for t in TOPICS:
            payload = f"{t}:{r}"
            want.append((t, payload))
            pub.publish(t, payload, qos=1).wait_for_publish(5)
    if not all_in.wait(10):
        fail(f"only {len(got)} messages: {got}")
    pub.disconnect()
    sub.disconnect()
    seen = [(t, p) for (t, p, _a, _e) in got]
    if seen != want:
        fail(f"topics: {got}")
    if not any(empty for (_t, _p, _a, empty) in got):
        fail(f"no message came with an alias alone: {got}")
    print("OK")


main()

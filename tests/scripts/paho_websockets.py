"""paho-mqtt's WebSockets transport against `mq broker`.

Usage: paho_websockets.py WS_PORT TCP_PORT MQ_BINARY. Prints OK when paho (over WebSockets)
receives what `mq pub` sent over TCP, routes a 100 kB QoS 1 message through the broker and
back, and `mq sub -L ws://...` receives what paho published.
"""
import subprocess
import sys
import threading

import paho.mqtt.client as mqtt

ws_port, tcp_port, mq_bin = int(sys.argv[1]), sys.argv[2], sys.argv[3]
got = {}
arrived = threading.Condition()
subscribed = threading.Event()


def on_message(_client, _userdata, msg):
    with arrived:
        got[msg.topic] = msg.payload
        arrived.notify_all()


def wait_for(topic):
    with arrived:
        if not arrived.wait_for(lambda: topic in got, timeout=10):
            sys.exit(f"no message on {topic}; got {sorted(got)}")
    return got[topic]


c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, transport="websockets", client_id="paho-ws")
c.ws_set_options(path="/mqtt")
c.on_message = on_message
c.on_subscribe = lambda *_args: subscribed.set()
c.connect("127.0.0.1", ws_port)
c.loop_start()
c.subscribe("p/#", qos=1)
if not subscribed.wait(10):
    sys.exit("no SUBACK")

subprocess.run([mq_bin, "pub", "-p", tcp_port, "-t", "p/from-tcp", "-m", "hello", "-q", "1"],
               check=True, timeout=20)
assert wait_for("p/from-tcp") == b"hello"

big = bytes(range(256)) * 400
c.publish("p/big", big, qos=1).wait_for_publish(10)
assert wait_for("p/big") == big, "100 kB payload intact"

c.publish("p/from-paho", b"over websockets", qos=1, retain=True).wait_for_publish(10)
out = subprocess.run([mq_bin, "sub", "-L", f"ws://127.0.0.1:{ws_port}/mqtt/p/from-paho",
                      "-C", "1", "-W", "10"], capture_output=True, timeout=20, check=True)
assert out.stdout == b"over websockets\n", out.stdout
c.disconnect()
c.loop_stop()
print("OK")

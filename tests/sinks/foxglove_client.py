"""Reading back what the Foxglove sinks wrote: an MCAP file with the ``mcap`` library (protobuf
messages decoded with the protobuf runtime from the file's own schemas), and a live server
with a Foxglove WebSocket protocol client built on ``websockets``."""

import json
import struct
import threading
import time


def read_mcap(path):
    """{topic: [(log_time, schema name, decoded message)]} read with the mcap library; the
    protobuf messages decoded with the protobuf runtime from the file's own schemas."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from mcap.reader import make_reader

    classes, out = {}, {}
    with open(path, "rb") as fh:
        reader = make_reader(fh)
        for schema, channel, message in reader.iter_messages(log_time_order=True):
            if channel.message_encoding == "json":
                value = json.loads(message.data)
            else:
                if schema.name not in classes:
                    pool = descriptor_pool.DescriptorPool()
                    for proto in descriptor_pb2.FileDescriptorSet.FromString(schema.data).file:
                        pool.Add(proto)
                    classes[schema.name] = message_factory.GetMessageClass(
                        pool.FindMessageTypeByName(schema.name))
                value = classes[schema.name].FromString(message.data)
            out.setdefault(channel.topic, []).append((message.log_time, schema.name, value))
    return out


PROTOCOLS = ["foxglove.sdk.v1", "foxglove.websocket.v1"]


class FoxgloveClient(threading.Thread):
    """A Foxglove WebSocket protocol client: subscribes to every advertised channel and keeps the
    message-data frames (opcode 1: subscription id, log time, payload)."""

    def __init__(self, url, wanted):
        super().__init__(daemon=True)
        self.url, self.wanted = url, wanted
        self.channels, self.received = {}, {}
        self.subscribed = threading.Event()
        self.done = threading.Event()
        self.error = None

    def run(self):
        from websockets.sync.client import connect

        try:
            # this SDK's server speaks foxglove.sdk.v1, the successor of foxglove.websocket.v1
            with connect(self.url, subprotocols=PROTOCOLS, open_timeout=10) as ws:
                assert ws.subprotocol in PROTOCOLS
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not self.done.is_set():
                    try:
                        raw = ws.recv(timeout=0.5)
                    except TimeoutError:
                        continue
                    if isinstance(raw, str):
                        self._control(ws, json.loads(raw))
                    elif raw[0] == 1:
                        sub, log_time = struct.unpack_from("<IQ", raw, 1)
                        topic = self.channels[sub]["topic"]
                        self.received.setdefault(topic, []).append((log_time, raw[13:]))
                        if all(len(self.received.get(t, [])) >= n for t, n in
                               self.wanted.items()):
                            self.done.set()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def _control(self, ws, msg):
        if msg.get("op") != "advertise":
            return
        subs = []
        for channel in msg["channels"]:
            sub = len(self.channels) + 1
            self.channels[sub] = channel
            subs.append({"id": sub, "channelId": channel["id"]})
        ws.send(json.dumps({"op": "subscribe", "subscriptions": subs}))
        if {c["topic"] for c in self.channels.values()} >= set(self.wanted):
            self.subscribed.set()

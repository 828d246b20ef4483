# KIP-345 static membership as librdkafka (confluent-kafka) uses it: two consumers with group.instance.id;
# one is closed (a static member sends no LeaveGroup) and restarted with the same instance id within the
# session timeout; then a second process takes over the instance while the first still runs (the first is
# fenced). Prints one JSON summary: callbacks and errors per phase, and when each phase started and settled.
import json, sys, time
from confluent_kafka import Consumer

port, topic, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
bootstrap = '127.0.0.1:' + port
owner = {}
events = []
errors = []
times = {}
phase = ['start']
last_change = [time.time()]

def make(name, instance):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'static', 'client.id': name,
                  'group.instance.id': instance, 'auto.offset.reset': 'earliest',
                  'session.timeout.ms': 30000, 'heartbeat.interval.ms': 300,
                  'error_cb': lambda err: errors.append({'phase': phase[0], 'consumer': name, 'error': str(err),
                                                         'fatal': err.fatal()})})
    def on_assign(consumer, parts):
        ps = sorted(p.partition for p in parts)
        events.append({'phase': phase[0], 'consumer': name, 'kind': 'assign', 'partitions': ps})
        for p in ps:
            owner[p] = name
        last_change[0] = time.time()
    def on_revoke(consumer, parts):
        ps = sorted(p.partition for p in parts)
        events.append({'phase': phase[0], 'consumer': name, 'kind': 'revoke', 'partitions': ps})
        for p in ps:
            if owner.get(p) == name:
                del owner[p]
        last_change[0] = time.time()
    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    return c

consumers = {}

def poll(name, c, timeout):
    # Consumer errors (a fatal one included) come back from poll() as messages with an error.
    msg = c.poll(timeout)
    if msg is not None and msg.error():
        errors.append({'phase': phase[0], 'consumer': name, 'error': str(msg.error()), 'fatal': msg.error().fatal()})

def settle(expect, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for name, c in list(consumers.items()):
            poll(name, c, 0.02)
        if len(owner) == partitions and set(owner.values()) == set(expect) and time.time() - last_change[0] > 2:
            times[phase[0]] = {'settled': time.time() * 1000}
            return
    raise SystemExit('phase %s did not settle: %s' % (phase[0], json.dumps({'owner': owner, 'events': events})))

def begin(name):
    phase[0] = name
    times[name + '-begin'] = time.time() * 1000

begin('start')
consumers['a'] = make('a', 'instance-a')
consumers['b'] = make('b', 'instance-b')
settle(['a', 'b'])
before = {p: o for p, o in owner.items()}

begin('restart')
# close() of a static member leaves the group to its session timeout: the broker keeps its assignment.
consumers.pop('a').close()
for p in list(owner):
    if owner[p] == 'a':
        owner[p] = 'a (closed)'
consumers['a2'] = make('a2', 'instance-a')
settle(['a2', 'b'])

begin('fence')
consumers['a3'] = make('a3', 'instance-a')
deadline = time.time() + 30
while time.time() < deadline and not any(e['consumer'] == 'a2' for e in errors):
    for name, c in list(consumers.items()):
        poll(name, c, 0.05)
fenced = consumers.pop('a2')
# a3 took over instance-a without a rebalance; nothing calls its on_assign, so settle on b alone staying put.
for _ in range(40):
    for name, c in list(consumers.items()):
        poll(name, c, 0.05)
times['fence'] = {'settled': time.time() * 1000}
a3_assignment = sorted(tp.partition for tp in consumers['a3'].assignment())
begin('end')
for c in consumers.values():
    c.close()
print(json.dumps({'events': events, 'errors': errors, 'times': times, 'before': before,
                  'a3Assignment': a3_assignment}))

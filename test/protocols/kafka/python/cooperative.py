# Three librdkafka (confluent-kafka) consumers with partition.assignment.strategy=cooperative-sticky in one
# group: two start, a third joins, then the first leaves. Prints one JSON summary: every assign/revoke
# callback per phase, ownership violations (a partition assigned while another consumer owns it, or a record
# consumed from a partition the consumer does not own), and which produced records were never consumed.
import json, sys, time
from confluent_kafka import Consumer, Producer

port, topic, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
bootstrap = '127.0.0.1:' + port
producer = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5})
produced = set()
seq = [0]

def produce(count):
    for p in range(partitions):
        for _ in range(count):
            value = 'r%d' % seq[0]
            seq[0] += 1
            producer.produce(topic, value.encode(), partition=p)
            produced.add(value)
    producer.flush(30)

owner = {}  # partition -> consumer name
owned = {}  # name -> set of partitions
events = []
violations = []
consumed = set()
phase = ['start']
last_change = [time.time()]

def make(name):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'coop', 'client.id': name,
                  'partition.assignment.strategy': 'cooperative-sticky', 'auto.offset.reset': 'earliest',
                  'session.timeout.ms': 10000, 'heartbeat.interval.ms': 300, 'auto.commit.interval.ms': 200})
    owned[name] = set()
    def on_assign(consumer, parts):
        ps = sorted(p.partition for p in parts)
        events.append({'phase': phase[0], 'consumer': name, 'kind': 'assign', 'partitions': ps})
        for p in ps:
            if p in owner and owner[p] != name:
                violations.append('%s assigned %d while %s owns it' % (name, p, owner[p]))
            owner[p] = name
            owned[name].add(p)
        last_change[0] = time.time()
    def on_revoke(consumer, parts):
        ps = sorted(p.partition for p in parts)
        events.append({'phase': phase[0], 'consumer': name, 'kind': 'revoke', 'partitions': ps})
        for p in ps:
            if owner.get(p) == name:
                del owner[p]
            owned[name].discard(p)
        last_change[0] = time.time()
    def on_lost(consumer, parts):
        events.append({'phase': phase[0], 'consumer': name, 'kind': 'lost', 'partitions': sorted(p.partition for p in parts)})
        on_revoke(consumer, parts)
    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    return c

consumers = {}

def poll_round():
    for name, c in list(consumers.items()):
        msg = c.poll(0.02)
        if msg is None or msg.error():
            continue
        if owner.get(msg.partition()) != name:
            violations.append('%s consumed from %d owned by %s' % (name, msg.partition(), owner.get(msg.partition())))
        consumed.add(msg.value().decode())

def settle(expect, timeout=60):
    # Polls until every partition is owned by the expected consumers and nothing changed for 2 s.
    deadline = time.time() + timeout
    while time.time() < deadline:
        poll_round()
        owners = set(owner.values())
        if len(owner) == partitions and owners == set(expect) and time.time() - last_change[0] > 2:
            return
    raise SystemExit('phase %s did not settle: %s' % (phase[0], json.dumps({'owner': owner, 'events': events})))

produce(50)
phase[0] = 'two'
consumers['c1'] = make('c1')
consumers['c2'] = make('c2')
settle(['c1', 'c2'])
produce(50)
phase[0] = 'join'
consumers['c3'] = make('c3')
settle(['c1', 'c2', 'c3'])
produce(50)
phase[0] = 'leave'
consumers.pop('c1').close()
settle(['c2', 'c3'])
phase[0] = 'end'
produce(50)
deadline = time.time() + 60
while consumed != produced and time.time() < deadline:
    poll_round()
for c in consumers.values():
    c.close()
print(json.dumps({'events': events, 'violations': violations, 'missing': sorted(produced - consumed)[:20],
                  'produced': len(produced), 'consumed': len(consumed)}))

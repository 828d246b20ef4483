#!/bin/bash
# usage: ab-rate.sh DIR OUTFILE RATE
DIR=$1; OUT=$2; RATE=$3
DATA=$(mktemp -d /tmp/wharf-ab-XXXX)
cd $DIR
node --v8-pool-size=1 --initial-old-space-size=128 bin/wharf.js start --data-dir $DATA --log-level warn --kafka-port 0 --mqtt-port 0 --http-port 0 &
PID=$!
for i in $(seq 1 50); do (echo > /dev/tcp/127.0.0.1/5672) 2>/dev/null && break; sleep 0.2; done
cd /tmp/wharf-peerbench
node amqp.mjs --mode queue --port 5672 --size 1024 --consumers 1 --messages 100000 --persistent --confirm --phases latency --lat-rate $RATE --lat-seconds 15 --broker-pid $PID --label x --json $OUT --quiet > /dev/null 2>&1
kill -TERM $PID; wait $PID
rm -rf $DATA

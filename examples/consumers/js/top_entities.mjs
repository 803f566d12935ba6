#!/usr/bin/env node
// The most mentioned entities, from newsstream's entities.mentions topic, with kafkajs.
//
// Each record is the latest count of one key, `entity_id|window|window_start`: keep the latest
// value per key (as a compacted topic does), then rank one window's keys. Prints the top
// entities once it has read every partition to its end, then again whenever counts change
// (--once: print once and exit).
//
//   npm ci && node top_entities.mjs --brokers 127.0.0.1:9092 --window total --top 10
// (--topic names another topic; the record key and value are schemas/asyncapi.yaml's.)
import kafkajs from "kafkajs";
import { decompress } from "fzstd";

const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajs;

// newsstream compresses its record batches with zstd (NEWSSTREAM_PRODUCER_COMPRESSION), which
// kafkajs reads only with a codec given to it: fzstd, in plain JavaScript, decompresses.
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: () => { throw new Error("this consumer only reads"); },
  decompress: async (buffer) => Buffer.from(decompress(buffer)),
});

const options = { brokers: "127.0.0.1:9092", topic: "entities.mentions", window: "total",
                  top: 10, once: false };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const name = args[i].replace(/^--/, "");
  if (name === "once") options.once = true;
  else if (name in options) options[name] = args[++i];
  else throw new Error(`unknown option ${args[i]}`);
}

const latest = new Map(); // key → the count record last seen for it

function top() {
  // The latest window start of the asked window (a tumbling window: its newest counts).
  const rows = [...latest.values()].filter((count) => count.window === options.window);
  const newest = Math.max(...rows.map((count) => count.window_start ?? 0));
  return rows.filter((count) => (count.window_start ?? 0) === newest)
    .sort((a, b) => b.mentions - a.mentions || b.articles - a.articles
                    || (a.entity.entity_id < b.entity.entity_id ? -1 : 1))
    .slice(0, Number(options.top));
}

function print() {
  for (const count of top()) {
    console.log(`${count.mentions}\t${count.articles}\t${count.entity.label}\t${count.entity.name}`);
  }
  console.log("");
}

const kafka = new Kafka({ clientId: "newsstream-top-entities", brokers: options.brokers.split(","),
                          logLevel: process.env.KAFKAJS_LOG ? logLevel.DEBUG : logLevel.ERROR });
const admin = kafka.admin();
await admin.connect();
// Where each partition ends now: the reader has caught up when it is past all of them.
const ends = new Map((await admin.fetchTopicOffsets(options.topic))
  .map(({ partition, high }) => [partition, Number(high)]));
await admin.disconnect();
const next = new Map([...ends.keys()].map((partition) => [partition, 0]));
const caughtUp = () => [...ends].every(([partition, end]) => next.get(partition) >= end);

// A group of its own: every run reads the topic from its beginning. The short session makes
// the join quick on brokers that hold a join for half of it.
const consumer = kafka.consumer({ groupId: `top-entities-${process.pid}-${Date.now()}`,
                                  sessionTimeout: 6000, heartbeatInterval: 1000 });
await consumer.connect();
await consumer.subscribe({ topic: options.topic, fromBeginning: true });
let printed = false;
const stop = async () => { await consumer.disconnect(); process.exit(0); };
consumer.on(consumer.events.CRASH, ({ payload }) => {
  if (!payload.restart) { console.error(`top_entities: ${payload.error}`); process.exit(1); }
});
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
await consumer.run({
  autoCommit: false, // a group of its own, read from the beginning each run: nothing to keep
  eachBatch: async ({ batch }) => {
    for (const message of batch.messages) {
      if (message.value) latest.set(message.key.toString(), JSON.parse(message.value.toString()));
    }
    next.set(batch.partition, Number(batch.lastOffset()) + 1); // compaction leaves gaps
    // The fetch's high watermark is the true end (some brokers' offset lists fall short).
    ends.set(batch.partition, Math.max(ends.get(batch.partition) ?? 0, Number(batch.highWatermark)));
    if (caughtUp() && (!printed || batch.messages.length)) {
      print();
      printed = true;
      if (options.once) setImmediate(stop); // after this batch: disconnecting waits for it
    }
  },
});
if (caughtUp() && options.once) { print(); await stop(); } // an empty topic

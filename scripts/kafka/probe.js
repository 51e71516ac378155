// Readiness probe for the test broker (plain JS so kafka.sh can run it before any build).
// Ready means: a metadata request answers, a topic can be created, and a consumer-group offset can be
// fetched from the group coordinator (right after start it answers "coordinator is loading" for a while).
// Usage: node scripts/kafka/probe.js <host:port>   exit 0 when ready, 1 otherwise (reason on stderr).
// With KAFKA_PROBE_SASL_USERNAME and KAFKA_PROBE_SASL_PASSWORD_FILE it authenticates with SCRAM-SHA-512.
'use strict';
const { readFileSync } = require('node:fs');
const { Kafka, logLevel } = require('kafkajs');

function sasl() {
  const username = process.env.KAFKA_PROBE_SASL_USERNAME;
  const file = process.env.KAFKA_PROBE_SASL_PASSWORD_FILE;
  if (!username || !file) return {};
  const password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  return { sasl: { mechanism: 'scram-sha-512', username, password } };
}

async function probe(broker) {
  const kafka = new Kafka({
    clientId: 'recon-kafka-probe',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
    ...sasl(),
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.fetchTopicMetadata({ topics: [] });
    const topic = 'recon.ready';
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    }
    await admin.fetchOffsets({ groupId: 'recon.ready', topics: [topic] });
  } finally {
    await admin.disconnect();
  }
}

probe(process.argv[2] || '127.0.0.1:19092').then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`kafka probe: ${error && error.message ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

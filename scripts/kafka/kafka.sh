#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, 127.0.0.1) for tests and local use.
#   bash scripts/kafka/kafka.sh fetch    broker jars from Maven Central into .kafka/libs (pinned in pom.xml)
#   bash scripts/kafka/kafka.sh start    fetch, format storage once, start in the background, wait until ready
#   bash scripts/kafka/kafka.sh stop     stop it cleanly (SIGTERM, SIGKILL after KAFKA_STOP_TIMEOUT seconds)
#   bash scripts/kafka/kafka.sh status   exit 0 and "running ..." when it runs, exit 3 and "stopped" when not
#   bash scripts/kafka/kafka.sh reset    stop, then delete this port's data and logs
# Environment: KAFKA_PORT (client port, default 19092), KAFKA_CONTROLLER_PORT (default KAFKA_PORT+1),
# KAFKA_HOME (default <repo>/.kafka), KAFKA_HEAP (default 512m), KAFKA_START_TIMEOUT (default 90 s).
# KAFKA_SECURITY=scram: the client listener is SASL_PLAINTEXT with SCRAM-SHA-512 and SCRAM-SHA-256, and a second
# one on KAFKA_TLS_PORT (default KAFKA_PORT+2) is SASL_SSL with a certificate for 127.0.0.1 signed by a CA made
# with openssl at format time (<state>/tls/ca.crt, the file for KAFKA_TLS_CA_FILE); users are
# created when the storage is formatted: KAFKA_SCRAM_USERNAME (default recon) with KAFKA_SCRAM_PASSWORD (default
# random), stored in <state>/credentials/<user>.password (mode 0600), plus an inter-broker user "admin".
# A port's storage keeps the security it was formatted with (reset to change it).
# start is idempotent: when this port's broker already runs, it only waits until it is ready.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
port="${KAFKA_PORT:-19092}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
home="${KAFKA_HOME:-$root/.kafka}"
libs="$home/libs"
state="$home/broker-$port"
pid_file="$state/broker.pid"
heap="${KAFKA_HEAP:-512m}"
start_timeout="${KAFKA_START_TIMEOUT:-90}"
stop_timeout="${KAFKA_STOP_TIMEOUT:-30}"
security="${KAFKA_SECURITY:-plaintext}"
credentials="$state/credentials"
tls_port="${KAFKA_TLS_PORT:-$((port + 2))}"
tls_dir="$state/tls"
scram_user="${KAFKA_SCRAM_USERNAME:-recon}"
case "$security" in plaintext|scram) ;; *) echo "kafka: KAFKA_SECURITY must be plaintext or scram (got '$security')" >&2; exit 2 ;; esac

say() { echo "kafka: $*" >&2; }
fail() { say "$*"; exit 1; }

need() { command -v "$1" >/dev/null || fail "'$1' is not installed (needed to $2)"; }

pom_digest() { sha256sum "$here/pom.xml" | cut -d' ' -f1; }

fetch() {
  if [ -f "$libs/.pom-sha256" ] && [ "$(cat "$libs/.pom-sha256")" = "$(pom_digest)" ]; then return 0; fi
  need mvn "fetch the broker jars"
  say "fetching the broker jars into $libs (mvn dependency:copy-dependencies)"
  rm -rf "$libs"
  mkdir -p "$libs"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" >&2 \
    || fail "mvn could not fetch the broker jars (is Maven Central reachable?)"
  pom_digest > "$libs/.pom-sha256"
}

# A credential file of this port's broker, made (random unless given, mode 0600) the first time it is asked for.
credential() {
  local file="$credentials/$1.password"
  if [ ! -s "$file" ]; then
    mkdir -p "$credentials"
    chmod 700 "$credentials"
    (umask 077; printf '%s\n' "${2:-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')}" > "$file")
  fi
  head -n1 "$file"
}

listener_config() {
  if [ "$security" = scram ]; then
    local admin_password
    admin_password="$(credential admin)"
    local store_password
    store_password="$(credential keystore)"
    cat <<EOF
listeners=SASL_PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$tls_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$tls_port
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
ssl.keystore.type=PKCS12
ssl.keystore.location=$tls_dir/broker.p12
ssl.keystore.password=$store_password
ssl.key.password=$store_password
ssl.truststore.type=PEM
ssl.truststore.location=$tls_dir/ca.crt
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
EOF
  else
    cat <<EOF
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
EOF
  fi
}

# A CA and a broker certificate for 127.0.0.1 (the SASL_SSL listener of KAFKA_SECURITY=scram), made once.
make_certificates() {
  [ -f "$tls_dir/broker.p12" ] && return 0
  need openssl "make the broker's TLS certificate"
  local password
  password="$(credential keystore)"
  mkdir -p "$tls_dir"
  (
    umask 077
    cd "$tls_dir"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=recon local Kafka CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > broker.ext
    openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out broker.crt -days 3650 -extfile broker.ext 2>/dev/null
    openssl pkcs12 -export -in broker.crt -inkey broker.key -name broker -out broker.p12 -passout "pass:$password"
    rm -f broker.csr broker.ext ca.srl
  ) || fail "openssl could not make the broker certificate in $tls_dir"
  chmod 644 "$tls_dir/ca.crt"
}

write_config() {
  mkdir -p "$state/data" "$state/logs"
  local formatted=""
  if [ -f "$state/security" ]; then formatted="$(cat "$state/security")"
  elif [ -f "$state/data/meta.properties" ]; then formatted=plaintext; fi
  if [ -n "$formatted" ] && [ "$formatted" != "$security" ]; then
    fail "$state was formatted with KAFKA_SECURITY=$formatted, not $security: run reset first (or use another KAFKA_PORT)"
  fi
  if [ "$security" = scram ]; then make_certificates; fi
  local listeners
  listeners="$(listener_config)"
  (umask 077; cat > "$state/server.properties" <<EOF
# Written by scripts/kafka/kafka.sh; edits are overwritten at the next start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
$listeners
log.dirs=$state/data
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=4
background.threads=4
EOF
  )
  cat > "$state/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $state/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
EOF
}

java_cmd=(java "-Xmx$heap" -Xms128m -XX:+UseG1GC -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$state/log4j2.properties" "-Dkafka.logs.dir=$state/logs" -cp "$libs/*")

java_run() { "${java_cmd[@]}" "$@"; }

format_storage() {
  [ -f "$state/data/meta.properties" ] && return 0
  local cluster_id
  cluster_id="$(java_run kafka.tools.StorageTool random-uuid | tail -n1)"
  local users=() user password
  if [ "$security" = scram ]; then
    for user in admin "$scram_user"; do
      if [ "$user" = "$scram_user" ]; then password="$(credential "$user" "${KAFKA_SCRAM_PASSWORD:-}")"; else password="$(credential "$user")"; fi
      users+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$password]" --add-scram "SCRAM-SHA-256=[name=$user,password=$password]")
    done
  fi
  say "formatting storage in $state/data (cluster $cluster_id, security $security)"
  java_run kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" --ignore-formatted "${users[@]}" >&2 \
    || fail "kafka.tools.StorageTool format failed (see above)"
  echo "$security" > "$state/security"
}

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid="$(cat "$pid_file")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q "kafka.Kafka" "/proc/$pid/cmdline" 2>/dev/null; then
    echo "$pid"
    return 0
  fi
  return 1
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

probe() {
  if [ "$security" = scram ]; then
    KAFKA_PROBE_SASL_USERNAME="$scram_user" KAFKA_PROBE_SASL_PASSWORD_FILE="$credentials/$scram_user.password" \
      node "$here/probe.js" "127.0.0.1:$port"
  else
    node "$here/probe.js" "127.0.0.1:$port"
  fi
}

wait_ready() {
  local pid="$1" deadline=$((SECONDS + start_timeout))
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$pid" 2>/dev/null || fail "the broker exited during start-up; last lines of $state/logs:
$(tail -n 20 "$state/logs/console.log" "$state/logs/server.log" 2>/dev/null)"
    if port_taken "$port" && probe 2>"$state/logs/probe.err"; then
      return 0
    fi
    sleep 1
  done
  fail "the broker did not become ready within ${start_timeout}s (probe: $(cat "$state/logs/probe.err" 2>/dev/null)); see $state/logs"
}

start() {
  local pid
  if pid="$(running_pid)"; then
    wait_ready "$pid"
    say "already running (pid $pid) on 127.0.0.1:$port"
    return 0
  fi
  need java "run the broker"
  need node "probe the broker"
  if port_taken "$port"; then fail "127.0.0.1:$port is taken by another process; set KAFKA_PORT"; fi
  if port_taken "$controller_port"; then fail "127.0.0.1:$controller_port is taken by another process; set KAFKA_CONTROLLER_PORT"; fi
  if [ "$security" = scram ] && port_taken "$tls_port"; then fail "127.0.0.1:$tls_port is taken by another process; set KAFKA_TLS_PORT"; fi
  fetch
  write_config
  format_storage
  local started=$SECONDS
  # setsid: the broker must not die with the shell (or test process) that started it.
  setsid nohup "${java_cmd[@]}" kafka.Kafka "$state/server.properties" >"$state/logs/console.log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" > "$pid_file"
  wait_ready "$pid"
  say "started (pid $pid) on 127.0.0.1:$port in $((SECONDS - started))s"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pid_file"
    say "not running on 127.0.0.1:$port"
    return 0
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + stop_timeout))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    say "the broker (pid $pid) did not stop within ${stop_timeout}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
  say "stopped (pid $pid)"
}

status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running (pid $pid) on 127.0.0.1:$port ($(cat "$state/security" 2>/dev/null || echo plaintext))"
    return 0
  fi
  echo "stopped"
  return 3
}

reset() {
  stop
  rm -rf "$state"
  say "deleted $state"
}

# One start, stop or reset at a time per port (test files may start the broker concurrently).
serialised() {
  mkdir -p "$home"
  exec 9>"$home/broker-$port.lock"
  flock 9
  "$@"
}

case "${1:-}" in
  fetch) mkdir -p "$home"; exec 9>"$home/fetch.lock"; flock 9; fetch ;;
  start) serialised start ;;
  stop) serialised stop ;;
  status) status ;;
  reset) serialised reset ;;
  *) echo "usage: $0 {fetch|start|stop|status|reset}" >&2; exit 2 ;;
esac

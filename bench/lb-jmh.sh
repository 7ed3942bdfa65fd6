#!/usr/bin/env bash
# The cost of one balancing choice per algorithm (JMH, src/bench/java): ns/op and, with -prof gc, bytes allocated
# per op. Builds with the Maven profile "bench" (JMH 1.37), which a plain ./mvnw verify never touches.
#
#   bench/lb-jmh.sh                      # short run: -wi 2 -i 3 -f 1 -w 1s -r 1s -prof gc, every algorithm
#   bench/lb-jmh.sh -p balance=maglev    # extra JMH options are appended (here: one algorithm only)
#   JMH_OPTS="-wi 5 -i 10 -f 2" bench/lb-jmh.sh   # longer, steadier run
#
# Writes the JMH text output to bench/results/raw/lb-jmh.txt (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -Pbench -DskipTests test-compile org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
CP="target/test-classes:target/classes:$(cat target/bench-classpath.txt)"
mkdir -p bench/results/raw
# shellcheck disable=SC2086
java -cp "$CP" org.openjdk.jmh.Main 'dev.portcullis.upstream.lb.BalancerBench' \
    ${JMH_OPTS:--wi 2 -i 3 -f 1 -w 1s -r 1s} -prof gc "$@" | tee bench/results/raw/lb-jmh.txt

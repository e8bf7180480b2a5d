package io.dkv.benchmarks;

import io.dkv.testing.EtcdProcess;
import java.io.IOException;
import java.util.Set;
import java.util.stream.Collectors;

/** A real etcd started for a benchmark, with its OS process (for CPU and memory readings). */
record LocalEtcd(EtcdProcess etcd, ProcessHandle process) {

  /**
   * Starts etcd, registered with {@code closer}. EtcdProcess does not expose its pid: etcd is the child process
   * that was not there before.
   */
  static LocalEtcd start(Closer closer) throws IOException {
    Set<Long> before = ProcessHandle.current().children().map(ProcessHandle::pid).collect(Collectors.toSet());
    EtcdProcess etcd = closer.add(EtcdProcess.start());
    ProcessHandle process = ProcessHandle.current().children().filter(c -> !before.contains(c.pid())).findFirst()
        .orElseThrow(() -> new IllegalStateException("cannot find the etcd process"));
    return new LocalEtcd(etcd, process);
  }
}

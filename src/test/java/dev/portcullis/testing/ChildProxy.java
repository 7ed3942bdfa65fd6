package dev.portcullis.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged jar ({@code -Dportcullis.jar}, set by failsafe) run in a child JVM. stdout and stderr go to
 * files so the child never blocks on a full pipe; {@link #close()} always kills it.
 */
public final class ChildProxy implements AutoCloseable {
    private static final Pattern LISTENER = Pattern.compile("listener (\\S+): http on /?[^\\s:]*:(\\d+)");
    private static final Pattern ADMIN = Pattern.compile("admin API on http://[^\\s:]+:(\\d+)");

    public final Process process;
    public final Path stdout;
    public final Path stderr;

    private ChildProxy(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    public static Path jar() {
        String jar = System.getProperty("portcullis.jar");
        if (jar == null) {
            jar = "target/portcullis.jar";
        }
        Path p = Path.of(jar);
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("no packaged jar at " + p.toAbsolutePath() + "; run `mvnw package` first");
        }
        return p;
    }

    public static String javaBin() {
        Optional<String> cmd = ProcessHandle.current().info().command();
        if (cmd.isPresent() && Files.isExecutable(Path.of(cmd.get()))) {
            return cmd.get();
        }
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Starts {@code java JVM_OPTS -jar portcullis.jar ARGS} in {@code dir}. */
    public static ChildProxy start(Path dir, List<String> jvmOpts, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBin());
        cmd.addAll(jvmOpts);
        cmd.add("-jar");
        cmd.add(jar().toAbsolutePath().toString());
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "child-", ".out");
        Path err = Files.createTempFile(dir, "child-", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        return new ChildProxy(pb.start(), out, err);
    }

    /** Runs a command to its end (bounded) and returns exit code and output. */
    public static Result runToEnd(Path dir, Duration timeout, String... args) throws Exception {
        try (ChildProxy c = start(dir, List.of(), args)) {
            if (!c.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("portcullis " + String.join(" ", args) + " did not end within " + timeout
                        + "\nstderr:\n" + c.stderr());
            }
            return new Result(c.process.exitValue(), c.stdout(), c.stderr());
        }
    }

    public record Result(int exit, String stdout, String stderr) {
    }

    public String stdout() {
        return read(stdout);
    }

    public String stderr() {
        return read(stderr);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + p + ": " + e + ")";
        }
    }

    /** Waits until stdout or stderr contains {@code text}; fails with the output if the process ends or time runs out. */
    public void awaitOutput(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (stdout().contains(text) || stderr().contains(text)) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("child exited (" + process.exitValue() + ") before printing '" + text
                        + "'\nstdout:\n" + stdout() + "\nstderr:\n" + stderr());
            }
            Thread.sleep(25);
        }
        throw new AssertionError("no '" + text + "' within " + timeout + "\nstdout:\n" + stdout() + "\nstderr:\n" + stderr());
    }

    /** Counts occurrences of {@code text} in stderr. */
    public int countInStderr(String text) {
        String s = stderr();
        int n = 0;
        for (int i = s.indexOf(text); i >= 0; i = s.indexOf(text, i + 1)) {
            n++;
        }
        return n;
    }

    /** The port of listener {@code name}, from its start-up log line (waits for it). */
    public int listenerPort(String name, Duration timeout) throws InterruptedException {
        awaitOutput("listener " + name + ": http on", timeout);
        Matcher m = LISTENER.matcher(stderr());
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return Integer.parseInt(m.group(2));
            }
        }
        throw new AssertionError("no port in the log for listener " + name + ":\n" + stderr());
    }

    public int adminPort(Duration timeout) throws InterruptedException {
        awaitOutput("admin API on http://", timeout);
        Matcher m = ADMIN.matcher(stderr());
        if (m.find()) {
            return Integer.parseInt(m.group(1));
        }
        throw new AssertionError("no admin port in the log:\n" + stderr());
    }

    public void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /** Waits for the process to end; fails with its output if it does not. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("child did not exit within " + timeout + "\nstderr:\n" + stderr());
        }
        return process.exitValue();
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

package dev.portcullis.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} for tests, on a free port of 127.0.0.1, with no persistence ({@code --save ''
 * --appendonly no}). Stopped by its own process handle (its PID), never by name. {@link #kill()} simulates a crash
 * (SIGKILL); {@link #restart()} starts it again on the same port, empty.
 *
 * <p>Needs {@code redis-server} on the PATH ({@code apt-get install redis-server}; .ci/run installs it).
 */
public final class RedisServer implements AutoCloseable {
    private final int port;
    private final Path log;
    private final java.util.List<String> extraArgs;
    private Process process;

    private RedisServer(int port, java.util.List<String> extraArgs) throws IOException {
        this.port = port;
        this.log = Files.createTempFile("redis-test-", ".log");
        this.extraArgs = extraArgs;
    }

    public static RedisServer start() throws Exception {
        return start(java.util.List.of());
    }

    /** @param extraArgs more redis-server options, such as {@code --cluster-enabled yes} */
    public static RedisServer start(java.util.List<String> extraArgs) throws Exception {
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            RedisServer r = new RedisServer(port, extraArgs);
            try {
                r.launch();
                return r;
            } catch (IOException e) { // the port was taken meanwhile: another one
                r.close();
                last = e;
            }
        }
        throw last;
    }

    private void launch() throws IOException, InterruptedException {
        ProcessBuilder pb;
        try {
            java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("redis-server", "--port",
                    Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--protected-mode", "no"));
            cmd.addAll(extraArgs);
            pb = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run redis-server (" + e.getMessage() + "); install it with "
                    + "'apt-get install redis-server'", e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("redis-server exited with " + process.exitValue() + ": " + logTail());
            }
            try {
                if (command("PING").equals("+PONG")) {
                    return;
                }
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        process.destroyForcibly();
        throw new IOException("redis-server did not answer PING within 10 s: " + logTail());
    }

    private String logTail() throws IOException {
        String s = Files.readString(log);
        return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:PORT}. */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** SIGKILL, as a crash: clients see their connections reset. Waits until the process is gone. */
    public void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Starts again on the same port (empty: nothing was saved). */
    public void restart() throws Exception {
        kill();
        launch();
    }

    /**
     * Sends one command with plain RESP and returns the reply's first line (e.g. {@code +PONG}, {@code :1},
     * {@code $-1}); for checks that need no client library.
     */
    public String command(String... args) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(5000);
            StringBuilder req = new StringBuilder("*").append(args.length).append("\r\n");
            for (String a : args) {
                req.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a)
                        .append("\r\n");
            }
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) != -1 && c != '\r') {
                line.append((char) c);
            }
            if (c == -1) {
                throw new IOException("connection closed");
            }
            return line.toString();
        }
    }

    /** Stops the server (SIGTERM to its PID, then SIGKILL if it lingers) and removes its log. */
    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a temp file: the OS cleans it up
        }
    }
}

package dev.portcullis.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * curl run as a real client: {@code -sS}, at most 15 s, and no proxy from the environment (only the {@code -x} /
 * {@code --socks5*} options a test gives).
 *
 * @param exit   curl's exit code (0 ok, 7 could not connect, 56 receive failure, 60 peer certificate not trusted...)
 * @param out    what it wrote to stdout (the body, and {@code -w} output)
 * @param stderr its error messages
 */
public record Curl(int exit, String out, String stderr) {

    public static Curl run(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "15", "--noproxy", ""));
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.toLowerCase(Locale.ROOT).contains("proxy"));
        Process proc = pb.start();
        try {
            byte[] out = proc.getInputStream().readAllBytes();
            byte[] err = proc.getErrorStream().readAllBytes();
            assertThat(proc.waitFor(30, TimeUnit.SECONDS)).isTrue();
            return new Curl(proc.exitValue(), new String(out, StandardCharsets.UTF_8),
                    new String(err, StandardCharsets.UTF_8));
        } finally {
            proc.destroyForcibly();
        }
    }
}

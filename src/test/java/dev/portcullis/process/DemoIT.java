package dev.portcullis.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.ChildProxy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code java -jar portcullis.jar} with no arguments: the demo on its fixed ports. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DemoIT {
    private static final int[] PORTS = {8080, 9001, 9002, 9003, 9901};
    private static final Pattern BACKEND = Pattern.compile("Hello from (backend-\\d)");

    @TempDir
    Path dir;

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void demoRotatesOverThreeBackendsAndStopsOnSigterm() throws Exception {
        for (int port : PORTS) {
            Assumptions.assumeTrue(free(port), "port 127.0.0.1:" + port + " is in use; the demo needs it");
        }
        try (ChildProxy demo = ChildProxy.start(dir, List.of())) {
            try {
                demo.awaitOutput("stop     : Ctrl-C", Duration.ofSeconds(20));
            } catch (AssertionError e) {
                // Another process may have taken one of the fixed ports between the check and the start.
                Assumptions.assumeFalse(!demo.process.isAlive() && demo.stderr().contains("in use"),
                        "a demo port was taken meanwhile: " + demo.stderr());
                throw e;
            }
            assertThat(demo.stdout()).contains("Portcullis demo").contains("http://127.0.0.1:8080")
                    .contains("http://127.0.0.1:9901");

            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            Set<String> backends = new LinkedHashSet<>();
            List<String> bodies = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8080/"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                bodies.add(r.body());
                Matcher m = BACKEND.matcher(r.body());
                assertThat(m.find()).as("body names its backend: %s", r.body()).isTrue();
                backends.add(m.group(1));
            }
            assertThat(backends).as("bodies: %s", bodies).containsExactlyInAnyOrder("backend-1", "backend-2", "backend-3");

            demo.signal("TERM");
            assertThat(demo.awaitExit(Duration.ofSeconds(15))).as(demo.stderr()).isZero();
        }
    }
}

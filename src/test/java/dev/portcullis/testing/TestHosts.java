package dev.portcullis.testing;

import dev.portcullis.forward.ForwardDns;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The names forward proxy tests resolve, all on 127.0.0.1, in one hosts file given to the proxy's resolver
 * ({@link ForwardDns#HOSTS_FILE_PROPERTY}). The resolver is one per process and reads the file when it is made,
 * so every test class of the JVM must see the same file: a class that wrote its own would leave the next class
 * with the first one's names. Add names here, not in a test.
 */
public final class TestHosts {
    public static final String NAMES = "origin.test www.origin.test blocked.test www.blocked.test";
    private static Path file;

    private TestHosts() {
    }

    /** Writes the file and sets the property, once per JVM; the file goes when the JVM exits. */
    public static synchronized void install() {
        if (file != null) {
            return;
        }
        try {
            file = Files.createTempFile("portcullis-hosts", "");
            file.toFile().deleteOnExit();
            Files.writeString(file, "127.0.0.1 " + NAMES + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.setProperty(ForwardDns.HOSTS_FILE_PROPERTY, file.toString());
    }
}

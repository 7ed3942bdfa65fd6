package dev.portcullis.testing;

import dev.portcullis.forward.ForwardDns;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The names forward-proxy tests resolve, all to 127.0.0.1, in one hosts file given to the proxy's resolver
 * ({@link ForwardDns#HOSTS_FILE_PROPERTY}). The forward DNS is one per process and reads the file when it is first
 * used, so every test class of the JVM must see the same file: they all call {@link #install}.
 */
public final class ForwardHosts {
    public static final String NAMES = "origin.test www.origin.test blocked.test www.blocked.test parent.test";
    private static Path file;

    private ForwardHosts() {
    }

    public static synchronized void install() {
        if (file != null) {
            return;
        }
        try {
            file = Files.createTempFile("portcullis-hosts", "");
            Files.writeString(file, "127.0.0.1 " + NAMES + "\n");
            file.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.setProperty(ForwardDns.HOSTS_FILE_PROPERTY, file.toString());
    }
}

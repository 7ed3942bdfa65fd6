package dev.portcullis.runtime;

import dev.portcullis.config.ConfigException;
import dev.portcullis.config.PortcullisConfig;
import java.io.IOException;
import java.nio.file.Path;

/** Where the config comes from, read again on every reload. */
public interface ConfigSource {
    PortcullisConfig load() throws ConfigException, IOException;

    /** The file to watch for changes, or null (the demo's built-in config). */
    Path file();
}

package dev.portcullis.runtime;

import dev.portcullis.config.ConfigException;
import dev.portcullis.config.ConfigLoader;
import dev.portcullis.config.PortcullisConfig;
import java.io.IOException;
import java.nio.file.Path;

/** A config file on disk, read again on each reload. */
public record FileConfigSource(Path file) implements ConfigSource {
    @Override
    public PortcullisConfig load() throws ConfigException, IOException {
        return ConfigLoader.load(file);
    }
}

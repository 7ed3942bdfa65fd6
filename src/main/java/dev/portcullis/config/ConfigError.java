package dev.portcullis.config;

/** One problem in a config file, printed as {@code FILE:LINE: path.to.key: message}. */
public record ConfigError(String file, int line, String path, String message) {
    @Override
    public String toString() {
        return file + ":" + line + ": " + (path.isEmpty() ? "" : path + ": ") + message;
    }
}

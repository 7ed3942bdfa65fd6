package dev.portcullis.config;

/**
 * @param path   "stdout", "stderr", a file path, or "off" (then {@link #enabled()} is false)
 * @param format how each line looks
 */
public record AccessLogConfig(String path, LogFormat format) {
    public boolean enabled() {
        return !"off".equals(path);
    }

    /** json | combined | a template with placeholders. */
    public sealed interface LogFormat {
        record Json() implements LogFormat {}
        record Combined() implements LogFormat {}
        record Template(String template) implements LogFormat {}
    }
}

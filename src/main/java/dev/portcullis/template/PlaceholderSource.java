package dev.portcullis.template;

/** Something that knows the current value of each placeholder: a live exchange, or a finished one in the access log. */
public interface PlaceholderSource {
    /** Appends the value, or "-" when it has none (no route yet, no TLS, ...). */
    void append(Placeholder placeholder, StringBuilder out);
}

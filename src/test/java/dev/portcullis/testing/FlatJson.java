package dev.portcullis.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** A flat JSON object (an access log line, an error body) read as field name to value text (numbers as written). */
public final class FlatJson {
    private FlatJson() {
    }

    public static Map<String, String> parse(String text) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (JsonParser p = new JsonFactory().createParser(text)) {
            assertThat(p.nextToken()).as("a JSON object: %s", text).isEqualTo(JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                out.put(name, t == JsonToken.VALUE_NULL ? null : p.getText());
            }
            assertThat(p.nextToken()).isNull();
        }
        return out;
    }
}

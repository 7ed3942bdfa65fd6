package dev.portcullis.http.filters.headers;

import dev.portcullis.config.HeadersConfig.HeaderOps;
import dev.portcullis.template.PlaceholderSource;
import dev.portcullis.template.Template;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.Map;

/** remove, then set, then add: header names interned as AsciiString, values as compiled templates. */
final class CompiledHeaderOps {
    private final AsciiString[] remove;
    private final AsciiString[] setNames;
    private final Template[] setValues;
    private final AsciiString[] addNames;
    private final Template[] addValues;

    CompiledHeaderOps(HeaderOps ops) {
        this.remove = ops.remove().stream().map(AsciiString::cached).toArray(AsciiString[]::new);
        this.setNames = names(ops.set());
        this.setValues = templates(ops.set());
        this.addNames = names(ops.add());
        this.addValues = templates(ops.add());
    }

    private static AsciiString[] names(Map<String, String> m) {
        return m.keySet().stream().map(AsciiString::cached).toArray(AsciiString[]::new);
    }

    private static Template[] templates(Map<String, String> m) {
        return m.values().stream().map(Template::compile).toArray(Template[]::new);
    }

    void apply(HttpHeaders headers, PlaceholderSource values) {
        for (AsciiString name : remove) {
            headers.remove(name);
        }
        for (int i = 0; i < setNames.length; i++) {
            headers.set(setNames[i], setValues[i].render(values));
        }
        for (int i = 0; i < addNames.length; i++) {
            headers.add(addNames[i], addValues[i].render(values));
        }
    }
}

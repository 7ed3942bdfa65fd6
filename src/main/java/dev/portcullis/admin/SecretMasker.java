package dev.portcullis.admin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Copies a config tree with secrets replaced by {@value #MASK}. */
final class SecretMasker {
    static final String MASK = "******";
    private static final Set<String> SECRET_KEYS = Set.of("token", "password", "secret", "api_keys", "key", "htpasswd");
    /** A URL with userinfo, such as {@code redis://user:pass@host}. */
    private static final Pattern USERINFO = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\\s]+@");

    private SecretMasker() {}

    static Object mask(Object node) {
        if (node instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String key = String.valueOf(e.getKey());
                copy.put(key, isSecretKey(key) && e.getValue() != null ? MASK : mask(e.getValue()));
            }
            return copy;
        }
        if (node instanceof List<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            for (Object item : list) {
                copy.add(mask(item));
            }
            return copy;
        }
        if (node instanceof String s && USERINFO.matcher(s).find()) {
            return MASK;
        }
        return node;
    }

    static boolean isSecretKey(String key) {
        return SECRET_KEYS.contains(key.toLowerCase(java.util.Locale.ROOT));
    }
}

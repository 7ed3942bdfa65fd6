package dev.portcullis.http.filters.rewrite;

import dev.portcullis.config.RewriteConfig;
import dev.portcullis.http.Exchange;
import dev.portcullis.http.filter.FilterStatus;
import dev.portcullis.http.filter.HttpFilter;
import dev.portcullis.http.filter.Phase;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code rewrite}: strip_prefix, then regex, then add_prefix, on the path sent upstream. The query string is
 * kept. Stripping the whole path leaves "/", as nginx does for {@code location /v1/ { proxy_pass .../; }}.
 */
public final class PathRewriteFilter implements HttpFilter {
    private final String stripPrefix;
    private final String addPrefix;
    private final Pattern pattern;
    private final String replacement;

    public PathRewriteFilter(RewriteConfig config) {
        this.stripPrefix = emptyToNull(config.stripPrefix());
        this.addPrefix = emptyToNull(config.addPrefix());
        this.pattern = config.regexPattern() == null ? null : Pattern.compile(config.regexPattern());
        this.replacement = config.regexReplace() == null ? "" : config.regexReplace();
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    @Override
    public Phase phase() {
        return Phase.REQUEST;
    }

    @Override
    public FilterStatus onRequest(Exchange exchange) {
        exchange.upstreamPath(rewrite(exchange.upstreamPath()));
        return FilterStatus.CONTINUE;
    }

    public String rewrite(String path) {
        String p = path;
        if (stripPrefix != null && p.startsWith(stripPrefix)) {
            p = p.substring(stripPrefix.length());
            if (p.isEmpty() || p.charAt(0) != '/') {
                p = "/" + p;
            }
        }
        if (pattern != null) {
            Matcher m = pattern.matcher(p);
            if (m.find()) {
                p = m.replaceFirst(replacement);
            }
        }
        if (addPrefix != null) {
            p = addPrefix.endsWith("/") && p.startsWith("/") ? addPrefix + p.substring(1) : addPrefix + p;
        }
        return p;
    }
}

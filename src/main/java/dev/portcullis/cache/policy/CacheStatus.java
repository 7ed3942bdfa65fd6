package dev.portcullis.cache.policy;

import io.netty.handler.codec.http.HttpHeaders;

/**
 * One member of the {@code Cache-Status} response field (RFC 9211), serialized as a Structured Field list member
 * (RFC 8941): {@code portcullis; hit; ttl=42}, {@code portcullis; fwd=miss; stored}, {@code portcullis; fwd=stale;
 * fwd-status=304; ttl=60; detail=no-cache}. Boolean parameters appear bare, integers are bounded to 15 digits,
 * {@code detail} is a token when it is one and a quoted sf-string otherwise, {@code key} always a string. The
 * parameters are written {@code "; "}-separated like the RFC's examples (an sf parser allows the space).
 */
public final class CacheStatus {
    /** Our cache's name in the field. */
    public static final String NAME = "portcullis";
    private static final long SF_INTEGER_MAX = 999_999_999_999_999L;

    /** The {@code fwd} parameter: why the request went forward (RFC 9211 section 2.2). */
    public enum Fwd {
        BYPASS("bypass"), METHOD("method"), URI_MISS("uri-miss"), VARY_MISS("vary-miss"), MISS("miss"),
        REQUEST("request"), STALE("stale"), PARTIAL("partial");

        final String token;

        Fwd(String token) {
            this.token = token;
        }

        public String token() {
            return token;
        }
    }

    private boolean hit;
    private Fwd fwd;
    private int fwdStatus;
    private boolean hasTtl;
    private long ttl;
    private boolean stored;
    private boolean collapsed;
    private String key;
    private String detail;

    private CacheStatus() {
    }

    /** Answered from the cache without going forward. */
    public static CacheStatus hit() {
        CacheStatus s = new CacheStatus();
        s.hit = true;
        return s;
    }

    /** Went forward for {@code why}. */
    public static CacheStatus forward(Fwd why) {
        CacheStatus s = new CacheStatus();
        s.fwd = why;
        return s;
    }

    /** The status the next hop answered (for example 304 on a successful revalidation). */
    public CacheStatus fwdStatus(int status) {
        this.fwdStatus = status;
        return this;
    }

    /** Remaining freshness in seconds; negative when a stale response was served. */
    public CacheStatus ttl(long seconds) {
        this.hasTtl = true;
        this.ttl = seconds;
        return this;
    }

    /** The response was stored (or a stored one freshened). */
    public CacheStatus stored(boolean stored) {
        this.stored = stored;
        return this;
    }

    /** The request was collapsed into another's upstream request. */
    public CacheStatus collapsed(boolean collapsed) {
        this.collapsed = collapsed;
        return this;
    }

    /** The cache key (debugging; leave unset in production answers: it may reveal request headers). */
    public CacheStatus key(String key) {
        this.key = key;
        return this;
    }

    /** Free-form detail, such as a {@link StoreDecision#reason()} or {@code stale-while-revalidate}. */
    public CacheStatus detail(String detail) {
        this.detail = detail;
        return this;
    }

    /** Appends this member to the response's Cache-Status (after any the upstream's caches added: section 2). */
    public void addTo(HttpHeaders response) {
        response.add("Cache-Status", toString());
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(48).append(NAME);
        if (hit) {
            sb.append("; hit");
        }
        if (fwd != null) {
            sb.append("; fwd=").append(fwd.token);
        }
        if (fwdStatus > 0) {
            sb.append("; fwd-status=").append(fwdStatus);
        }
        if (hasTtl) {
            sb.append("; ttl=").append(Math.max(-SF_INTEGER_MAX, Math.min(SF_INTEGER_MAX, ttl)));
        }
        if (stored) {
            sb.append("; stored");
        }
        if (collapsed) {
            sb.append("; collapsed");
        }
        if (key != null) {
            sb.append("; key=");
            sfString(sb, key);
        }
        if (detail != null && !detail.isEmpty()) {
            sb.append("; detail=");
            if (isSfToken(detail)) {
                sb.append(detail);
            } else {
                sfString(sb, detail);
            }
        }
        return sb.toString();
    }

    /** sf-token = ( ALPHA / "*" ) *( tchar / ":" / "/" ). */
    static boolean isSfToken(String s) {
        char c0 = s.charAt(0);
        if (!(c0 >= 'a' && c0 <= 'z' || c0 >= 'A' && c0 <= 'Z' || c0 == '*')) {
            return false;
        }
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Syntax.isTchar(c) && c != ':' && c != '/') {
                return false;
            }
        }
        return true;
    }

    /** sf-string: printable ASCII only (others become '?'), with '"' and '\' escaped. */
    static void sfString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                sb.append('?');
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }
}

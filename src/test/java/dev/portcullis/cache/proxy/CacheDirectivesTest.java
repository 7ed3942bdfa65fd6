package dev.portcullis.cache.proxy;

import static dev.portcullis.cache.proxy.CacheProxyTest.cacheStatus;
import static dev.portcullis.cache.proxy.CacheProxyTest.get;
import static dev.portcullis.cache.proxy.CacheProxyTest.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.testing.CountingOrigin;
import dev.portcullis.testing.CountingOrigin.Reply;
import dev.portcullis.testing.TestProxy;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Each RESPONSE directive and freshness rule of RFC 9111 (docs/caching.md, "What is stored and for how long"),
 * proven through the proxy's sockets: what the client gets (status, body, fields, Cache-Status) and how many
 * requests reach an origin that counts them. The policy classes have their own unit tests; these prove the proxy
 * applies them. No test waits for time to pass: staleness comes from {@code max-age=0} or an upstream {@code Age}.
 * Request directives: {@link CacheRequestDirectivesTest}; Vary, invalidation, Cache-Status, purge:
 * {@link CacheVaryAndInvalidationTest}.
 */
class CacheDirectivesTest {
    static final String STORED = "portcullis; fwd=uri-miss; fwd-status=200; stored";
    /** A miss stored beside other variants of the same URL. */
    static final String VARY_STORED = "portcullis; fwd=vary-miss; fwd-status=200; stored";
    private static final Pattern TTL = Pattern.compile("; ttl=(-?\\d+)");
    private static final DateTimeFormatter IMF_FIXDATE = DateTimeFormatter
            .ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    /** An HTTP-date (IMF-fixdate) {@code offsetSeconds} from now. */
    static String httpDate(long offsetSeconds) {
        return IMF_FIXDATE.format(Instant.now().plusSeconds(offsetSeconds));
    }

    /** The {@code ttl} of our Cache-Status member; fails when it has none. */
    static long ttl(HttpResponse<?> r) {
        Matcher m = TTL.matcher(cacheStatus(r));
        assertThat(m.find()).as("a ttl in %s", cacheStatus(r)).isTrue();
        return Long.parseLong(m.group(1));
    }

    /**
     * An origin that can be revalidated: {@code 304} (with the same Cache-Control, no body) when the request's
     * If-None-Match is the stored {@code "v1"}; else {@code 200 "body"} with ETag "v1", the given Cache-Control and
     * the extra header pairs.
     */
    static Function<CountingOrigin.Request, Reply> revalidatable(String cacheControl, String... extra) {
        String[] pairs = new String[extra.length + 4];
        pairs[0] = "Cache-Control";
        pairs[1] = cacheControl;
        pairs[2] = "ETag";
        pairs[3] = "\"v1\"";
        System.arraycopy(extra, 0, pairs, 4, extra.length);
        return r -> "\"v1\"".equals(r.header("If-None-Match"))
                ? Reply.ok("", "Cache-Control", cacheControl, "ETag", "\"v1\"").status(304)
                : Reply.ok("body", pairs);
    }

    /** Two GETs of {@code path}: the first stores, the second is a fresh hit; the origin sees one. */
    private static void storedThenHit(TestProxy p, CountingOrigin origin, String path) throws Exception {
        HttpResponse<String> miss = get(p, path);
        assertThat(miss.statusCode()).isEqualTo(200);
        assertThat(cacheStatus(miss)).as(path).isEqualTo(STORED);
        HttpResponse<String> hit = get(p, path);
        assertThat(hit.statusCode()).isEqualTo(200);
        assertThat(hit.body()).isEqualTo(miss.body());
        assertThat(cacheStatus(hit)).as(path).matches("portcullis; hit; ttl=\\d+");
        assertThat(origin.count("GET " + path)).as(path).isEqualTo(1);
    }

    /** A GET that is stored but stale at once, then a GET that revalidates it (the origin sees If-None-Match). */
    private static void storedThenRevalidated(TestProxy p, CountingOrigin origin, String path) throws Exception {
        HttpResponse<String> miss = get(p, path);
        assertThat(cacheStatus(miss)).as(path).isEqualTo(STORED);
        HttpResponse<String> again = get(p, path);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.body()).isEqualTo("body");
        assertThat(cacheStatus(again)).as(path).matches("portcullis; fwd=stale; fwd-status=304; ttl=-?\\d+; stored");
        assertThat(origin.count("GET " + path)).as(path).isEqualTo(2);
        assertThat(origin.requests().get(origin.total() - 1).header("If-None-Match")).isEqualTo("\"v1\"");
    }

    // ---- no-store, no-cache, private, public ----

    @Test
    void noStoreWinsOverEveryOtherDirectiveUnlessMustUnderstandAndAKnownStatus() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("x " + r.uri(), "Cache-Control",
                r.uri().equals("/mu") ? "must-understand, no-store, max-age=60" : "public, max-age=60, no-store"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> r = get(p, "/ns");
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("x /ns");
                assertThat(cacheStatus(r)).isEqualTo("portcullis; fwd=uri-miss; fwd-status=200; detail=no-store");
            }
            assertThat(origin.count("GET /ns")).isEqualTo(2);
            // RFC 9111 section 5.2.2.3: a cache that understands the status ignores no-store beside must-understand
            storedThenHit(p, origin, "/mu");
        }
    }

    @Test
    void noCacheStoresButRevalidatesOnEveryUse() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(revalidatable("max-age=60, no-cache"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpResponse<String> miss = get(p, "/nc");
            assertThat(miss.body()).isEqualTo("body");
            assertThat(cacheStatus(miss)).isEqualTo(STORED);
            for (int i = 2; i <= 3; i++) {
                HttpResponse<String> r = get(p, "/nc");
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("body");
                // fresh for 60 s, still validated each time; the 304 freshens the entry (stored)
                assertThat(cacheStatus(r)).matches("portcullis; fwd=stale; fwd-status=304; ttl=\\d+; stored");
                assertThat(origin.count("GET /nc")).isEqualTo(i);
                assertThat(origin.requests().get(i - 1).header("If-None-Match")).isEqualTo("\"v1\"");
            }
        }
    }

    @Test
    void noCacheWithoutAValidatorIsNotStored() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("nv", "Cache-Control", "max-age=60, no-cache"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> r = get(p, "/ncv");
                assertThat(r.body()).isEqualTo("nv");
                assertThat(cacheStatus(r)).isEqualTo("portcullis; fwd=uri-miss; fwd-status=200; detail=stale-no-validator");
            }
            assertThat(origin.count("GET /ncv")).isEqualTo(2);
        }
    }

    @Test
    void noCacheWithFieldNamesStoresTheResponseButNeverServesThoseFields() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("f", "Cache-Control",
                "max-age=60, no-cache=\"X-Secret, X-Token\"", "X-Secret", "s1", "X-Token", "t1", "X-Other", "o1"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpResponse<String> miss = get(p, "/ncf");
            assertThat(miss.headers().firstValue("X-Secret")).as("the client that filled it").hasValue("s1");
            assertThat(cacheStatus(miss)).isEqualTo(STORED);
            HttpResponse<String> hit = get(p, "/ncf");
            assertThat(hit.statusCode()).isEqualTo(200);
            assertThat(hit.body()).isEqualTo("f");
            assertThat(cacheStatus(hit)).matches("portcullis; hit; ttl=\\d+"); // the rest served without validation
            assertThat(hit.headers().firstValue("X-Secret")).isEmpty();
            assertThat(hit.headers().firstValue("X-Token")).isEmpty();
            assertThat(hit.headers().firstValue("X-Other")).hasValue("o1");
            assertThat(origin.count("GET /ncf")).isEqualTo(1);
        }
    }

    @Test
    void privateIsNotStoredByASharedCache() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("mine", "Cache-Control", "private, max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> r = get(p, "/p");
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("mine");
                assertThat(cacheStatus(r)).isEqualTo("portcullis; fwd=uri-miss; fwd-status=200; detail=private");
            }
            assertThat(origin.count("GET /p")).isEqualTo(2);
        }
    }

    @Test
    void privateWithAFieldNameStoresTheResponseWithoutThatField() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("shared part", "Cache-Control",
                "private=\"X-User\", max-age=60", "X-User", "alice", "X-Shared", "yes"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpResponse<String> miss = get(p, "/pf");
            assertThat(miss.headers().firstValue("X-User")).hasValue("alice");
            assertThat(cacheStatus(miss)).isEqualTo(STORED);
            HttpResponse<String> hit = get(p, "/pf");
            assertThat(hit.body()).isEqualTo("shared part");
            assertThat(cacheStatus(hit)).matches("portcullis; hit; ttl=\\d+");
            assertThat(hit.headers().firstValue("X-User")).isEmpty();
            assertThat(hit.headers().firstValue("X-Shared")).hasValue("yes");
            assertThat(origin.count("GET /pf")).isEqualTo(1);
        }
    }

    /** A 302 is not heuristically cacheable; {@code public} makes its Last-Modified heuristic usable (4.2.2). */
    @Test
    void publicMakesAResponseWithoutExplicitFreshnessHeuristicallyCacheable() throws Exception {
        String lastModified = httpDate(-1000);
        try (CountingOrigin origin = CountingOrigin.start(r -> (r.uri().equals("/pub")
                ? Reply.ok("moved", "Location", "/elsewhere", "Last-Modified", lastModified, "Cache-Control", "public")
                : Reply.ok("moved", "Location", "/elsewhere", "Last-Modified", lastModified)).status(302));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            HttpResponse<String> miss = get(p, "/pub");
            assertThat(miss.statusCode()).isEqualTo(302);
            assertThat(cacheStatus(miss)).isEqualTo("portcullis; fwd=uri-miss; fwd-status=302; stored");
            HttpResponse<String> hit = get(p, "/pub");
            assertThat(hit.statusCode()).isEqualTo(302);
            assertThat(hit.body()).isEqualTo("moved");
            assertThat(hit.headers().firstValue("Location")).hasValue("/elsewhere");
            assertThat(cacheStatus(hit)).startsWith("portcullis; hit; ttl=");
            assertThat(ttl(hit)).as("10% of 1000 s").isBetween(93L, 100L);
            assertThat(origin.count("GET /pub")).isEqualTo(1);
            // the same 302 without public: no freshness at all, not stored
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> r = get(p, "/nopub");
                assertThat(r.statusCode()).isEqualTo(302);
                assertThat(cacheStatus(r)).isEqualTo("portcullis; fwd=uri-miss; fwd-status=302; detail=no-freshness");
            }
            assertThat(origin.count("GET /nopub")).isEqualTo(2);
        }
    }

    /**
     * Documented (docs/caching.md, Revalidation): a 304 that says no-store still answers the request, and the stored
     * response is dropped. Cache-Status must then not say {@code stored}.
     */
    @Test
    void a304ThatSaysNoStoreDropsTheEntryAndCacheStatusSaysSo() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> "\"v1\"".equals(r.header("If-None-Match"))
                ? Reply.ok("", "Cache-Control", "no-store", "ETag", "\"v1\"").status(304)
                : Reply.ok("body", "Cache-Control", "max-age=0", "ETag", "\"v1\""));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(cacheStatus(get(p, "/d304"))).isEqualTo(STORED);
            HttpResponse<String> r = get(p, "/d304");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("body");
            assertThat(cacheStatus(r)).startsWith("portcullis; fwd=stale; fwd-status=304").doesNotContain("stored");
            assertThat(cacheStatus(get(p, "/d304"))).isEqualTo(STORED); // dropped: a miss
            assertThat(origin.count("GET /d304")).isEqualTo(3);
        }
    }

    // ---- must-revalidate, proxy-revalidate, s-maxage ----

    @Test
    void mustRevalidateIsNeverServedStaleEvenWithTheClientsMaxStale() throws Exception {
        staleIsRevalidatedDespiteMaxStale("max-age=0, must-revalidate");
    }

    @Test
    void proxyRevalidateIsNeverServedStaleEvenWithTheClientsMaxStale() throws Exception {
        staleIsRevalidatedDespiteMaxStale("max-age=0, proxy-revalidate");
    }

    /** s-maxage implies proxy-revalidate in a shared cache (section 5.2.2.10). */
    @Test
    void sMaxAgeIsNeverServedStaleWithTheClientsMaxStale() throws Exception {
        staleIsRevalidatedDespiteMaxStale("max-age=60, s-maxage=0");
    }

    private static void staleIsRevalidatedDespiteMaxStale(String cacheControl) throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(revalidatable(cacheControl));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            assertThat(cacheStatus(get(p, "/mr"))).isEqualTo(STORED);
            for (String maxStale : new String[] {"max-stale", "max-stale=3600"}) {
                HttpResponse<String> r = get(p, "/mr", "Cache-Control", maxStale);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("body");
                assertThat(cacheStatus(r)).as(maxStale).matches("portcullis; fwd=stale; fwd-status=304; ttl=-?\\d+; stored");
            }
            assertThat(origin.count("GET /mr")).isEqualTo(3);
            assertThat(origin.requests().get(2).header("If-None-Match")).isEqualTo("\"v1\"");
        }
    }

    @Test
    void sMaxAgeOverridesMaxAgeInASharedCache() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(revalidatable("max-age=0, s-maxage=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            storedThenHit(p, origin, "/sm");
            assertThat(ttl(get(p, "/sm"))).as("s-maxage, not max-age=0").isBetween(54L, 60L);
            assertThat(origin.count("GET /sm")).isEqualTo(1);
        }
        // and the other way round: max-age=60 does not keep an s-maxage=0 response fresh here
        try (CountingOrigin origin = CountingOrigin.start(revalidatable("max-age=60, s-maxage=0"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            storedThenRevalidated(p, origin, "/sm0");
        }
    }

    // ---- max-age, Expires, heuristics, Age ----

    @Test
    void maxAgeGivesTheFreshnessLifetime() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(revalidatable("max-age=60"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            storedThenHit(p, origin, "/ma");
            HttpResponse<String> hit = get(p, "/ma");
            assertThat(ttl(hit)).isBetween(54L, 60L);
            assertThat(hit.headers().firstValue("Age").map(Long::parseLong)).hasValueSatisfying(
                    a -> assertThat(a).isBetween(0L, 6L));
        }
        try (CountingOrigin origin = CountingOrigin.start(revalidatable("max-age=0"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            storedThenRevalidated(p, origin, "/ma0");
        }
    }

    @Test
    void expiresMinusDateGivesTheLifetimeWithoutMaxAge() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> switch (r.uri()) {
            case "/exp" -> Reply.ok("body", "Expires", httpDate(120), "ETag", "\"v1\"");
            // max-age wins over an Expires in the past
            default -> Reply.ok("body", "Expires", httpDate(-3600), "Cache-Control", "max-age=60");
        });
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            storedThenHit(p, origin, "/exp");
            assertThat(ttl(get(p, "/exp"))).isBetween(114L, 121L);
            storedThenHit(p, origin, "/exp-ma");
        }
    }

    /** Section 5.3: an invalid Expires (including "0"), or several different ones, means already expired. */
    @Test
    void anInvalidExpiresIsStaleFromTheStart() throws Exception {
        for (String expires : new String[] {"0", "next tuesday", httpDate(60) + "\n" + httpDate(120)}) {
            try (CountingOrigin origin = CountingOrigin.start(r -> "\"v1\"".equals(r.header("If-None-Match"))
                    ? Reply.ok("", "ETag", "\"v1\"", "Expires", expires).status(304)
                    : Reply.ok("body", "ETag", "\"v1\"", "Expires", expires));
                 TestProxy p = TestProxy.start(yaml(origin, ""))) {
                HttpResponse<String> miss = get(p, "/ie");
                assertThat(cacheStatus(miss)).as(expires).isEqualTo(STORED);
                HttpResponse<String> again = get(p, "/ie");
                assertThat(again.body()).isEqualTo("body");
                assertThat(cacheStatus(again)).as(expires).matches("portcullis; fwd=stale; fwd-status=304; ttl=-?\\d+; stored");
                assertThat(origin.count("GET /ie")).isEqualTo(2);
            }
        }
    }

    @Test
    void aTwoHundredWithOnlyLastModifiedIsHeuristicallyFresh() throws Exception {
        String recent = httpDate(-1000);
        String old = httpDate(-400L * 24 * 3600);
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("h",
                "Last-Modified", r.uri().equals("/old") ? old : recent));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            storedThenHit(p, origin, "/heur");
            assertThat(ttl(get(p, "/heur"))).as("10% of 1000 s").isBetween(93L, 100L);
            storedThenHit(p, origin, "/old");
            assertThat(ttl(get(p, "/old"))).as("capped at one day").isBetween(86_390L, 86_400L);
        }
    }

    @Test
    void noHeuristicFreshnessForAStatusThatIsNotHeuristicallyCacheable() throws Exception {
        String lastModified = httpDate(-1000);
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("gone for now",
                "Last-Modified", lastModified).status(r.uri().equals("/503") ? 503 : 404));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> r = get(p, "/503");
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.body()).isEqualTo("gone for now");
                assertThat(cacheStatus(r)).isEqualTo("portcullis; fwd=uri-miss; fwd-status=503; detail=no-freshness");
            }
            assertThat(origin.count("GET /503")).isEqualTo(2);
            // a 404 is heuristically cacheable (RFC 9110 section 15.1)
            HttpResponse<String> miss = get(p, "/404");
            assertThat(cacheStatus(miss)).isEqualTo("portcullis; fwd=uri-miss; fwd-status=404; stored");
            HttpResponse<String> hit = get(p, "/404");
            assertThat(hit.statusCode()).isEqualTo(404);
            assertThat(hit.body()).isEqualTo("gone for now");
            assertThat(cacheStatus(hit)).matches("portcullis; hit; ttl=\\d+");
            assertThat(origin.count("GET /404")).isEqualTo(1);
        }
    }

    /** Section 4.2.3: the upstream's Age counts towards the current age. */
    @Test
    void anAgeFromUpstreamIsCountedInTheCurrentAge() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> "\"v1\"".equals(r.header("If-None-Match"))
                ? Reply.ok("", "ETag", "\"v1\"", "Cache-Control", "max-age=60").status(304) // no Age: fresh again
                : Reply.ok("body", "ETag", "\"v1\"", "Cache-Control", "max-age=60",
                        "Age", r.uri().equals("/age50") ? "50" : "100"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            storedThenHit(p, origin, "/age50");
            HttpResponse<String> hit = get(p, "/age50");
            assertThat(ttl(hit)).isBetween(4L, 10L);
            assertThat(hit.headers().firstValue("Age").map(Long::parseLong)).hasValueSatisfying(
                    a -> assertThat(a).isBetween(50L, 56L));
            // older than its max-age on arrival: stored (it has a validator) but stale, revalidated at once
            storedThenRevalidated(p, origin, "/age100");
            HttpResponse<String> afterwards = get(p, "/age100");
            assertThat(cacheStatus(afterwards)).matches("portcullis; hit; ttl=\\d+");
            assertThat(origin.count("GET /age100")).isEqualTo(2);
        }
    }

    /** RFC 8246: immutable changes nothing in a shared cache. */
    @Test
    void immutableIsServedFreshAndAClientNoCacheStillRevalidates() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(revalidatable("max-age=60, immutable"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            storedThenHit(p, origin, "/im");
            HttpResponse<String> r = get(p, "/im", "Cache-Control", "no-cache");
            assertThat(r.body()).isEqualTo("body");
            assertThat(cacheStatus(r)).matches("portcullis; fwd=request; fwd-status=304; ttl=\\d+; stored");
            assertThat(origin.count("GET /im")).isEqualTo(2);
            assertThat(origin.requests().get(1).header("If-None-Match")).isEqualTo("\"v1\"");
        }
    }

    // ---- syntax ----

    @Test
    void unknownDirectivesAreIgnoredWithTheirArguments() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("u", "Cache-Control",
                "x-cdn-only, community=\"UCI\", foo=\"no-store, private\", max-age=60, bar=1"));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            storedThenHit(p, origin, "/unk");
        }
    }

    @Test
    void quotedValuesUpperCaseNamesAndEqualRepeatsAreRead() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> Reply.ok("q " + r.uri(), "Cache-Control",
                switch (r.uri()) {
                    case "/quoted" -> "max-age=\"60\"";
                    case "/upper" -> "Public, MAX-AGE=60";
                    case "/repeat" -> "max-age=60, max-age=60";
                    case "/lines" -> "public\nmax-age=60"; // two field lines are one list
                    default -> "NO-STORE, max-age=60";
                }));
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            for (String path : new String[] {"/quoted", "/upper", "/repeat", "/lines"}) {
                storedThenHit(p, origin, path);
            }
            assertThat(cacheStatus(get(p, "/upper-no-store"))).isEqualTo(
                    "portcullis; fwd=uri-miss; fwd-status=200; detail=no-store");
        }
    }

    /**
     * Section 4.2.1: invalid or conflicting values take the most restrictive reading. A max-age that cannot be read,
     * or two different ones, count as 0 (stale from the start, so revalidated); a directive followed by junk still
     * counts when it is a flag; a no-store on a second field line counts.
     */
    @Test
    void conflictingAndInvalidValuesTakeTheMostRestrictiveReading() throws Exception {
        try (CountingOrigin origin = CountingOrigin.start(r -> {
            String cc = switch (r.uri()) {
                case "/conflict" -> "max-age=60, max-age=5";
                case "/unit" -> "max-age=60s";
                case "/negative" -> "max-age=-1";
                case "/decimal" -> "max-age=1.5";
                case "/junk" -> "max-age=60, no-store junk";
                default -> "max-age=60\nno-store"; // "/second-line"
            };
            return revalidatable(cc).apply(r);
        });
             TestProxy p = TestProxy.start(yaml(origin, ""))) {
            for (String path : new String[] {"/conflict", "/unit", "/negative", "/decimal"}) {
                storedThenRevalidated(p, origin, path);
            }
            for (String path : new String[] {"/junk", "/second-line"}) {
                for (int i = 0; i < 2; i++) {
                    HttpResponse<String> r = get(p, path);
                    assertThat(r.body()).isEqualTo("body");
                    assertThat(cacheStatus(r)).as(path).isEqualTo("portcullis; fwd=uri-miss; fwd-status=200; detail=no-store");
                }
                assertThat(origin.count("GET " + path)).isEqualTo(2);
            }
        }
    }
}

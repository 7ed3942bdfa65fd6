package dev.portcullis.cache.policy;

import static dev.portcullis.cache.policy.H.of;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class CacheStatusTest {
    @Test
    void hitWithTtl() {
        assertThat(CacheStatus.hit().ttl(42).toString()).isEqualTo("portcullis; hit; ttl=42");
    }

    @Test
    void staleHitHasANegativeTtl() {
        assertThat(CacheStatus.hit().ttl(-5).detail("stale-while-revalidate").toString())
                .isEqualTo("portcullis; hit; ttl=-5; detail=stale-while-revalidate");
    }

    @Test
    void forwards() {
        assertThat(CacheStatus.forward(CacheStatus.Fwd.MISS).stored(true).toString())
                .isEqualTo("portcullis; fwd=miss; stored");
        assertThat(CacheStatus.forward(CacheStatus.Fwd.URI_MISS).toString()).isEqualTo("portcullis; fwd=uri-miss");
        assertThat(CacheStatus.forward(CacheStatus.Fwd.VARY_MISS).toString()).isEqualTo("portcullis; fwd=vary-miss");
        assertThat(CacheStatus.forward(CacheStatus.Fwd.REQUEST).detail("request-no-cache").toString())
                .isEqualTo("portcullis; fwd=request; detail=request-no-cache");
        assertThat(CacheStatus.forward(CacheStatus.Fwd.STALE).fwdStatus(304).ttl(60).stored(true).toString())
                .isEqualTo("portcullis; fwd=stale; fwd-status=304; ttl=60; stored");
        assertThat(CacheStatus.forward(CacheStatus.Fwd.BYPASS).toString()).isEqualTo("portcullis; fwd=bypass");
        assertThat(CacheStatus.forward(CacheStatus.Fwd.METHOD).toString()).isEqualTo("portcullis; fwd=method");
        assertThat(CacheStatus.forward(CacheStatus.Fwd.PARTIAL).toString()).isEqualTo("portcullis; fwd=partial");
    }

    @Test
    void staleIfErrorAnswer() {
        assertThat(CacheStatus.forward(CacheStatus.Fwd.STALE).fwdStatus(503).ttl(-30).detail("stale-if-error")
                .toString()).isEqualTo("portcullis; fwd=stale; fwd-status=503; ttl=-30; detail=stale-if-error");
    }

    @Test
    void collapsedAndKey() {
        assertThat(CacheStatus.forward(CacheStatus.Fwd.MISS).collapsed(true).key("http://a/\"x\"\\").toString())
                .isEqualTo("portcullis; fwd=miss; collapsed; key=\"http://a/\\\"x\\\"\\\\\"");
    }

    @Test
    void detailIsATokenWhenItCanBeElseAString() {
        assertThat(CacheStatus.hit().detail("no-store").toString()).endsWith("; detail=no-store");
        assertThat(CacheStatus.hit().detail("a/b:c").toString()).endsWith("; detail=a/b:c");
        assertThat(CacheStatus.hit().detail("1st").toString()).endsWith("; detail=\"1st\"");
        assertThat(CacheStatus.hit().detail("two words").toString()).endsWith("; detail=\"two words\"");
        assertThat(CacheStatus.hit().detail("caf\u00e9\n").toString()).endsWith("; detail=\"caf??\"");
        assertThat(CacheStatus.hit().detail("").toString()).isEqualTo("portcullis; hit");
    }

    @Test
    void integersStayWithinStructuredFieldBounds() {
        assertThat(CacheStatus.hit().ttl(Long.MAX_VALUE).toString()).isEqualTo("portcullis; hit; ttl=999999999999999");
        assertThat(CacheStatus.hit().ttl(Long.MIN_VALUE).toString()).isEqualTo("portcullis; hit; ttl=-999999999999999");
    }

    @Test
    void appendedAfterTheUpstreamCachesMembers() {
        HttpHeaders h = of("Cache-Status", "OriginCache; hit");
        CacheStatus.hit().ttl(1).addTo(h);
        assertThat(h.getAll("Cache-Status")).containsExactly("OriginCache; hit", "portcullis; hit; ttl=1");
    }

    @Test
    void decisionsMapToFields() {
        ServeDecision stale = new ServeDecision.Validate(CacheStatus.Fwd.STALE, "stale");
        assertThat(CacheStatus.forward(stale.fwd()).detail(stale.detail()).toString())
                .isEqualTo("portcullis; fwd=stale; detail=stale");
        StoreDecision no = new StoreDecision.DontStore("set-cookie");
        assertThat(CacheStatus.forward(CacheStatus.Fwd.URI_MISS).detail(no.reason()).toString())
                .isEqualTo("portcullis; fwd=uri-miss; detail=set-cookie");
    }
}

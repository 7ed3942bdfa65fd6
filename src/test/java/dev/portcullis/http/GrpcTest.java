package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GrpcTest {
    private static HttpRequest req(String contentType, String timeout) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/test.Echo/Unary");
        if (contentType != null) {
            r.headers().set("content-type", contentType);
        }
        if (timeout != null) {
            r.headers().set("grpc-timeout", timeout);
        }
        return r;
    }

    @Test
    void recognisesGrpcContentTypesOnly() {
        assertThat(Grpc.isGrpc(req("application/grpc", null))).isTrue();
        assertThat(Grpc.isGrpc(req("application/grpc+proto", null))).isTrue();
        assertThat(Grpc.isGrpc(req("Application/GRPC; charset=x", null))).isTrue();
        assertThat(Grpc.isGrpc(req("application/grpc-web", null))).isFalse();
        assertThat(Grpc.isGrpc(req("application/json", null))).isFalse();
        assertThat(Grpc.isGrpc(req(null, null))).isFalse();
    }

    @Test
    void parsesGrpcTimeoutUnitsAndIgnoresMalformedOnes() {
        assertThat(Grpc.timeoutNanos(req(null, "100m"))).isEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
        assertThat(Grpc.timeoutNanos(req(null, "2S"))).isEqualTo(TimeUnit.SECONDS.toNanos(2));
        assertThat(Grpc.timeoutNanos(req(null, "1H"))).isEqualTo(TimeUnit.HOURS.toNanos(1));
        assertThat(Grpc.timeoutNanos(req(null, "5u"))).isEqualTo(5_000);
        assertThat(Grpc.timeoutNanos(req(null, "0n"))).isEqualTo(1);
        for (String bad : new String[] {"100", "m", "10x", "-5m", "1234567890S", "1.5S"}) {
            assertThat(Grpc.timeoutNanos(req(null, bad))).as(bad).isZero();
        }
    }

    @Test
    void theShorterOfRouteTimeoutAndCallDeadlineWins() {
        long second = TimeUnit.SECONDS.toNanos(1);
        assertThat(Grpc.effectiveTimeoutNanos(0, req(null, "100m"))).isEqualTo(second / 10);
        assertThat(Grpc.effectiveTimeoutNanos(second, req(null, "100m"))).isEqualTo(second / 10);
        assertThat(Grpc.effectiveTimeoutNanos(second, req(null, "10S"))).isEqualTo(second);
        assertThat(Grpc.effectiveTimeoutNanos(second, req(null, null))).isEqualTo(second);
    }

    @Test
    void mapsProxyStatusesAndEncodesMessages() {
        assertThat(Grpc.codeFor(502)).isEqualTo(14);
        assertThat(Grpc.codeFor(503)).isEqualTo(14);
        assertThat(Grpc.codeFor(504)).isEqualTo(4);
        assertThat(Grpc.codeFor(404)).isEqualTo(12);
        assertThat(Grpc.codeFor(401)).isEqualTo(16);
        assertThat(Grpc.codeFor(429)).isEqualTo(8);
        assertThat(Grpc.percentEncode("50% off: café\n")).isEqualTo("50%25 off: caf%C3%A9%0A");
    }
}

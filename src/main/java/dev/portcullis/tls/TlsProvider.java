package dev.portcullis.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which TLS implementation serves: BoringSSL (netty-tcnative) when its native library loads, as it is faster and
 * staples OCSP; the JDK's otherwise. {@code -Dportcullis.tls.provider=jdk} (or env {@code PORTCULLIS_TLS_PROVIDER=jdk})
 * forces the JDK's, so both paths can be tested on one machine. Read on each build, logged when it changes.
 */
public final class TlsProvider {
    private static final Logger log = LoggerFactory.getLogger(TlsProvider.class);
    public static final String PROPERTY = "portcullis.tls.provider";
    private static final AtomicReference<SslProvider> logged = new AtomicReference<>();

    private TlsProvider() {
    }

    /** The provider to use now; logs it the first time (and whenever it differs from the last one logged). */
    public static SslProvider select() {
        String forced = System.getProperty(PROPERTY, System.getenv("PORTCULLIS_TLS_PROVIDER"));
        boolean wantJdk = forced != null && forced.trim().toLowerCase(Locale.ROOT).equals("jdk");
        SslProvider p = !wantJdk && OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        if (logged.getAndSet(p) != p) {
            if (p == SslProvider.OPENSSL) {
                log.info("TLS provider: BoringSSL ({}) through netty-tcnative", OpenSsl.versionString());
            } else if (wantJdk) {
                log.info("TLS provider: the JDK's (forced by {}/PORTCULLIS_TLS_PROVIDER)", PROPERTY);
            } else {
                log.info("TLS provider: the JDK's (BoringSSL not available: {})",
                        OpenSsl.unavailabilityCause() == null ? "unknown" : OpenSsl.unavailabilityCause().toString());
            }
        }
        return p;
    }

    public static String describe(SslProvider p) {
        return p == SslProvider.OPENSSL ? "BoringSSL" : "JDK";
    }
}

package dev.portcullis.http.gateway;

import dev.portcullis.auth.BasicCredentials;
import dev.portcullis.auth.Htpasswd;
import dev.portcullis.config.GatewayConfig;
import dev.portcullis.http.Exchange;
import dev.portcullis.http.LocalReply;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A route's {@code auth}: finds the request's credentials, checks them, and names the {@link Consumer}. With
 * {@code any_of}, the first method whose credentials the request carries decides (a wrong API key is refused even
 * when a password would have been right: one request, one identity); none carried: {@code 401} with every method's
 * challenge. Refusals are {@code 401} with {@code WWW-Authenticate} and a JSON body saying what was wrong with the
 * credentials (missing, malformed, unknown key, wrong user or password) and nothing more; {@code 403} for a
 * consumer outside the route's {@code groups}. Once accepted, the credentials are removed from the request unless
 * {@code keep_credentials}.
 */
public final class Authenticator {
    private final List<Check> checks;
    private final Set<String> groups;
    private final boolean keepCredentials;
    private final String challenges;
    private final Executor passwordChecks;
    /** Headers that a JWT's claims set: whatever the client sent in them is removed first. */
    private final List<String> claimHeaders;

    /** One method, compiled. */
    interface Check {
        /** Whether the request carries credentials of this kind. */
        boolean present(Exchange ex);

        /** Checks them (they are present). */
        GateDecision check(Exchange ex, Authenticator auth);

        String challenge();
    }

    /**
     * @param passwordChecks where password hashes are checked (bcrypt: never on an event loop)
     * @throws Htpasswd.InvalidFileException for an unusable htpasswd file
     */
    public Authenticator(GatewayConfig.Auth cfg, ConsumerDirectory consumers, Executor passwordChecks, String route) {
        List<Check> list = new ArrayList<>();
        for (GatewayConfig.Method m : cfg.methods()) {
            if (m instanceof GatewayConfig.ApiKey k) {
                list.add(new KeyCheck(k.header(), k.query(), consumers));
            } else if (m instanceof GatewayConfig.Basic b) {
                list.add(new BasicCheck(Htpasswd.load(b.htpasswd()), b.realm(), consumers));
            } else if (m instanceof GatewayConfig.Jwt j) {
                list.add(new JwtCheck(j, consumers, route));
            } else {
                throw new IllegalArgumentException("auth method " + m + " is not supported in this version");
            }
        }
        this.checks = List.copyOf(list);
        this.claimHeaders = list.stream().filter(c -> c instanceof JwtCheck).flatMap(c -> ((JwtCheck) c)
                .forwardedHeaders().stream()).distinct().toList();
        this.groups = Set.copyOf(cfg.groups());
        this.keepCredentials = cfg.keepCredentials();
        this.challenges = String.join(", ", checks.stream().map(Check::challenge).toList());
        this.passwordChecks = passwordChecks;
    }

    /**
     * Masks API keys given in the query in what the access log shows: called first, before any check, so that a key
     * in a request refused for its address or answered as a preflight is not logged either.
     */
    public void maskQueryKeys(Exchange ex) {
        for (Check c : checks) {
            if (c instanceof KeyCheck k && k.query() != null && ex.rawQueryMentions(k.query())) {
                ex.maskQueryParameterInLog(k.query());
            }
        }
    }

    public GateDecision authenticate(Exchange ex) {
        for (String h : claimHeaders) {
            ex.request().headers().remove(h); // only a verified token's claims may fill them
        }
        for (Check c : checks) {
            if (c.present(ex)) {
                return c.check(ex, this);
            }
        }
        return unauthorized("no credentials: this route needs " + describe());
    }

    private String describe() {
        return String.join(" or ", checks.stream().map(c -> c instanceof KeyCheck k ? k.describe()
                : c instanceof JwtCheck ? "a bearer token (JWT)" : "HTTP Basic credentials").toList());
    }

    /** The consumer passed: its groups, then the credentials leave the request. */
    GateDecision accepted(Exchange ex, Consumer consumer, Check by) {
        ex.consumer(consumer); // known, even when refused below: the access log names who was refused
        if (!groups.isEmpty() && !consumer.inAnyOf(groups)) {
            return new GateDecision.Refuse("group", LocalReply.jsonError(403, "consumer '" + consumer.name()
                    + "' may not use this route (auth.groups)"));
        }
        if (!keepCredentials) {
            // every method's credentials, not only those that were checked: an unchecked Authorization next to a
            // good API key must not reach an upstream that might trust it
            for (Check c : checks) {
                if (c instanceof KeyCheck k) {
                    k.strip(ex);
                } else {
                    ex.request().headers().remove(HttpHeaderNames.AUTHORIZATION);
                }
            }
        }
        return GateDecision.PASS;
    }

    GateDecision unauthorized(String why) {
        return new GateDecision.Refuse("auth", LocalReply.jsonError(401, why)
                .header(HttpHeaderNames.WWW_AUTHENTICATE, challenges));
    }

    /** Whether the request's {@code Authorization} uses {@code scheme} (case-blind, RFC 9110 section 11.1). */
    static boolean hasAuthorization(Exchange ex, String scheme) {
        String a = ex.request().headers().get(HttpHeaderNames.AUTHORIZATION);
        return a != null && a.regionMatches(true, 0, scheme, 0, scheme.length());
    }

    /** {@code api_key}: a consumer's key in a header or a query parameter. */
    private record KeyCheck(String header, String query, ConsumerDirectory consumers) implements Check {
        @Override
        public boolean present(Exchange ex) {
            return (header != null && ex.request().headers().contains(header))
                    || (query != null && ex.queryParameters().containsKey(query));
        }

        @Override
        public GateDecision check(Exchange ex, Authenticator auth) {
            HttpHeaders h = ex.request().headers();
            List<String> values = header != null ? h.getAll(header) : List.of();
            if (values.isEmpty() && query != null) {
                values = ex.queryParameters().getOrDefault(query, List.of());
            }
            if (values.size() != 1 || values.get(0).isBlank()) {
                return auth.unauthorized("malformed credentials: send exactly one API key (" + describe() + ")");
            }
            Consumer c = consumers.byApiKey(values.get(0).trim());
            if (c == null) {
                return auth.unauthorized("invalid API key");
            }
            return auth.accepted(ex, c, this);
        }

        void strip(Exchange ex) {
            if (header != null) {
                ex.request().headers().remove(header);
            }
            if (query != null) {
                ex.removeQueryParameter(query);
            }
        }

        String describe() {
            return header != null && query != null ? "an API key in the " + header + " header or the '" + query
                    + "' query parameter" : header != null ? "an API key in the " + header + " header"
                    : "an API key in the '" + query + "' query parameter";
        }

        @Override
        public String challenge() {
            return "APIKey realm=\"portcullis\"" + (header != null ? ", header=\"" + header + "\"" : "")
                    + (query != null ? ", query=\"" + query + "\"" : "");
        }
    }

    /** {@code basic}: RFC 7617 credentials against an htpasswd file. */
    private record BasicCheck(Htpasswd users, String realm, ConsumerDirectory consumers) implements Check {
        @Override
        public boolean present(Exchange ex) {
            return hasAuthorization(ex, "Basic");
        }

        @Override
        public GateDecision check(Exchange ex, Authenticator auth) {
            List<String> all = ex.request().headers().getAll(HttpHeaderNames.AUTHORIZATION);
            if (all.size() != 1) {
                return auth.unauthorized("malformed credentials: send one Authorization header");
            }
            BasicCredentials.Result r = BasicCredentials.fromHeader(all.get(0));
            if (!(r instanceof BasicCredentials.Valid v)) {
                return auth.unauthorized("malformed credentials: " + ((BasicCredentials.Invalid) r).why());
            }
            CompletableFuture<Htpasswd.Outcome> outcome;
            try {
                outcome = users.checkAsync(v.user(), v.password(), auth.passwordChecks);
            } catch (RejectedExecutionException e) {
                return new GateDecision.Refuse("auth", LocalReply.jsonError(503,
                        "too many password checks waiting; try again"));
            }
            BasicCheck self = this;
            // the verdict is applied on the request's event loop, which owns the exchange
            return new GateDecision.Pending(outcome.handleAsync((o, err) -> {
                if (err != null) {
                    Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                            ? err.getCause() : err;
                    return new GateDecision.Refuse("auth", cause instanceof RejectedExecutionException
                            ? LocalReply.jsonError(503, "too many password checks waiting; try again")
                            : LocalReply.jsonError(500, "the password could not be checked"));
                }
                if (o != Htpasswd.Outcome.OK) {
                    return auth.unauthorized("wrong user name or password");
                }
                Consumer c = consumers.byName(v.user());
                return auth.accepted(ex, c != null ? c : new Consumer(v.user(), Set.of()), self);
            }, ex.executor()));
        }

        @Override
        public String challenge() {
            return "Basic realm=\"" + realm + "\", charset=\"UTF-8\"";
        }
    }
}

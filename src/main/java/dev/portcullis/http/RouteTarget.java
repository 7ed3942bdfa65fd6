package dev.portcullis.http;

import dev.portcullis.template.Template;
import dev.portcullis.upstream.Upstream;
import io.netty.util.AsciiString;

/** The action of a compiled route. */
public sealed interface RouteTarget {

    record ToUpstream(Upstream upstream) implements RouteTarget {}

    record Redirect(Template to, int status) implements RouteTarget {}

    record Respond(int status, byte[] body, AsciiString[] headerNames, Template[] headerValues) implements RouteTarget {}
}

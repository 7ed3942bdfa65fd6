package dev.portcullis.http.router;

import io.netty.handler.codec.http.HttpRequest;
import java.util.List;
import java.util.Map;

/** What route predicates may look at. The exchange implements it; query parameters are parsed only if asked. */
public interface RequestFacts {
    HttpRequest request();

    /** The normalised path without the query string. */
    String path();

    /** Query parameters, decoded on first use. */
    Map<String, List<String>> queryParameters();

    /** The client's address bytes (4 for IPv4, 16 for IPv6), captured once per connection. */
    byte[] clientAddress();
}

package dev.portcullis.config;

/**
 * {@code routes[].rewrite}: path rewriting before the request goes upstream. Any combination;
 * applied as strip_prefix, then regex, then add_prefix. The query string is kept.
 *
 * @param regexReplace uses $1.. group references (java.util.regex syntax)
 */
public record RewriteConfig(String stripPrefix, String addPrefix, String regexPattern, String regexReplace) {
}

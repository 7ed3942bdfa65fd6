package dev.portcullis.http;

import dev.portcullis.config.RouteAction;
import dev.portcullis.observe.RouteStats;
import dev.portcullis.template.Template;
import dev.portcullis.upstream.Upstream;
import dev.portcullis.upstream.lb.Weights;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/** The action of a compiled route. */
public sealed interface RouteTarget {

    record ToUpstream(Upstream upstream) implements RouteTarget {}

    /** A forward proxy: each request names its own destination, within the listener's rules. */
    record Forward(ForwardRuntime runtime) implements RouteTarget {}

    /**
     * A weighted choice of upstream per request ({@code split}).
     *
     * @param prefix running sums of the weights; a request takes the first upstream whose sum is above its draw
     * @param stats  per branch: the route's metrics labelled with the upstream the request went to
     */
    record Split(Upstream[] upstreams, long[] prefix, String label, RouteStats[] stats) implements RouteTarget {

        public static Split of(RouteAction.Split config, Map<String, Upstream> byName,
                               Function<String, RouteStats> statsByUpstream) {
            List<RouteAction.Split.Branch> branches = config.branches();
            Upstream[] ups = new Upstream[branches.size()];
            RouteStats[] stats = new RouteStats[branches.size()];
            int[] weights = new int[branches.size()];
            for (int i = 0; i < ups.length; i++) {
                ups[i] = byName.get(branches.get(i).upstream());
                weights[i] = branches.get(i).weight();
                stats[i] = statsByUpstream.apply(branches.get(i).upstream());
            }
            String label = branches.stream().map(RouteAction.Split.Branch::upstream).distinct()
                    .collect(java.util.stream.Collectors.joining("|"));
            return new Split(ups, Weights.prefixSums(weights), label, stats);
        }

        /** The upstream for one request. */
        public Upstream choose() {
            long total = prefix[prefix.length - 1];
            return upstreams[Weights.indexOf(prefix, ThreadLocalRandom.current().nextLong(total))];
        }
    }

    record Redirect(Template to, int status) implements RouteTarget {}

    record Respond(int status, byte[] body, AsciiString[] headerNames, Template[] headerValues) implements RouteTarget {}
}

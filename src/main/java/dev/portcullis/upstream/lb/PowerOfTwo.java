package dev.portcullis.upstream.lb;

import dev.portcullis.upstream.Endpoint;
import dev.portcullis.upstream.EndpointState;

/**
 * Power of two choices: two endpoints drawn at random (see {@link TwoChoices} for how weights shape the draw), the
 * one with fewer requests in flight relative to its weight wins; on a tie the first drawn. Nearly as even as least
 * connections without scanning every endpoint, and without its herd: two event loops seldom pick alike.
 */
public final class PowerOfTwo implements Balancer {

    @Override
    public Picker build(Endpoint[] endpoints, int[] weights) {
        TwoChoices choices = new TwoChoices(weights);
        EndpointState[] states = Weights.states(endpoints);
        return ctx -> {
            long pair = choices.draw();
            int a = TwoChoices.first(pair);
            int b = TwoChoices.second(pair);
            // inFlight(a) / weight(a) <= inFlight(b) / weight(b), without division
            long la = (long) states[a].inFlight() * weights[b];
            long lb = (long) states[b].inFlight() * weights[a];
            return la <= lb ? endpoints[a] : endpoints[b];
        };
    }
}

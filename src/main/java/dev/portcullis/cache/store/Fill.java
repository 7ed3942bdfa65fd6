package dev.portcullis.cache.store;

import dev.portcullis.cache.store.FollowOutcome.Attached;
import dev.portcullis.cache.store.FollowOutcome.GoUpstream;
import dev.portcullis.cache.store.FollowOutcome.Reason;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One upstream fetch that fills an entry, and the requests collapsed onto it. The leader (the request that got
 * {@link Lookup.Lead}) calls, on its own event loop and in this order: {@link #begin} with the storable head (or
 * {@link #uncacheable()}), {@link #append} for each body chunk as it arrives, then {@link #complete()} or
 * {@link #abort}; a revalidation may instead end with {@link #freshen} (a 304). Every path must end in one of
 * uncacheable, complete, abort or freshen, or the body leaks.
 *
 * <p>Followers wait for the head without a lock: {@link #state} holds either a stack of waiters, pushed by CAS,
 * or the decision, swapped in once by the leader; whoever comes after the swap reads the decision.
 */
public final class Fill {
    /** What became of the head; followers read it. */
    private sealed interface Decision {}

    private record Streaming(ResponseMeta meta, Body body) implements Decision {}

    private record Ready(StoredResponse response) implements Decision {}

    private record Bypass(Reason reason) implements Decision {}

    /** A follower waiting for the head; an immutable stack node. */
    private record Waiter(EventExecutor executor, VariantKeys variants, CompletableFuture<FollowOutcome> future,
                          Future<?> timer, Waiter next) {}

    private final CacheZone zone;
    private final CacheKey key;
    private final StoredResponse stale;
    /** null (no waiter yet), a {@link Waiter} stack, or a {@link Decision}. */
    private final AtomicReference<Object> state = new AtomicReference<>();
    private volatile boolean doomed;
    /** Whether the last {@link #freshen} left the freshened response stored. */
    private boolean freshenedStored;

    // leader thread only
    private Body body;
    private ResponseMeta meta;
    private boolean finished;

    /** @param stale the stored response this fill revalidates (one reference taken for the fill), or null */
    Fill(CacheZone zone, CacheKey key, StoredResponse stale) {
        this.zone = zone;
        this.key = key;
        this.stale = stale;
    }

    /** The key this fill was registered under (for a first miss on a varying resource: the variant key before Vary was known). */
    public CacheKey key() {
        return key;
    }

    /** The stored response being revalidated or refreshed, or null for a plain miss. */
    public StoredResponse stale() {
        return stale;
    }

    /** A purge matched this fill: whatever it fetches will not be stored. */
    public boolean isDoomed() {
        return doomed;
    }

    /**
     * The upstream head is storable: followers attach and the body is copied into the store as it comes.
     *
     * @param meta          the metadata to store; its primary key must be this fill's, its variant key is the
     *                      leader's under the response's Vary
     * @param contentLength the Content-Length, or -1 when unknown
     * @return false when the response will not be stored after all (Content-Length over max_object_size, or the
     *         fill already ended): the followers go upstream and the leader just proxies
     */
    public boolean begin(ResponseMeta meta, long contentLength) {
        if (!meta.primaryKey().equals(key.primary())) {
            throw new IllegalArgumentException("fill for " + key + " got metadata for " + meta.primaryKey());
        }
        if (finished || body != null) {
            return false;
        }
        if (contentLength > zone.maxObjectSize()) {
            end(new Bypass(Reason.TOO_LARGE));
            return false;
        }
        this.meta = meta;
        body = Body.open(zone.allocator(), contentLength, zone.maxObjectSize());
        decide(new Streaming(meta, body));
        return true;
    }

    /**
     * Copies a chunk of the upstream body into the store (the caller keeps {@code content} and still writes it to
     * its own client).
     *
     * @return false once the store no longer takes the body (it passed max_object_size: the attached followers
     *         were aborted with {@link AbortReason#TOO_LARGE}); stop calling then
     */
    public boolean append(ByteBuf content) {
        if (finished || body == null) {
            return false;
        }
        if (body.append(content)) {
            return true;
        }
        finishBody(); // aborted by the append itself
        return false;
    }

    /**
     * The body is complete: followers finish and the response becomes the stored object, unless a purge matched
     * it meanwhile. The object is in the cache before the fill leaves the fill table, so no lookup in between
     * finds neither.
     *
     * @return true when it was stored
     */
    public boolean complete() {
        if (finished || body == null) {
            return false;
        }
        body.seal();
        boolean stored = !doomed && zone.store(new StoredResponse(meta, body), this);
        finishBody();
        return stored;
    }

    /**
     * The upstream exchange failed: before the head, followers go upstream themselves; after it, the body is
     * aborted and the attached followers are told (they must not end their response as if complete).
     */
    public void abort(AbortReason reason) {
        if (finished) {
            return;
        }
        if (body == null) {
            end(new Bypass(Reason.LEADER_FAILED));
        } else {
            body.abort(reason);
            finishBody();
        }
    }

    /** The response may not be stored: followers go upstream themselves. Only before {@link #begin}. */
    public void uncacheable() {
        if (body != null) {
            throw new IllegalStateException("uncacheable after begin: abort instead");
        }
        if (!finished) {
            end(new Bypass(Reason.UNCACHEABLE));
        }
    }

    /**
     * A revalidation got 304: the stored response gets {@code newMeta} (built with {@link ResponseMeta#freshened})
     * and keeps its body, not copied. Followers attach to the freshened response.
     *
     * @return the freshened response (no reference taken: the leader serves it under the lease it already holds on
     *         the stale one)
     */
    public StoredResponse freshen(ResponseMeta newMeta) {
        if (stale == null) {
            throw new IllegalStateException("freshen needs a fill started for a stored response");
        }
        if (finished || body != null) {
            throw new IllegalStateException("fill already " + (finished ? "ended" : "begun"));
        }
        StoredResponse fresh = stale.withMeta(newMeta);
        freshenedStored = !doomed && zone.replace(stale, fresh, this);
        end(new Ready(fresh));
        return fresh;
    }

    /**
     * After {@link #freshen}: whether the freshened response took the stale one's place (not when a purge matched
     * it, or the stale one was already evicted or replaced).
     */
    public boolean freshenedStored() {
        return freshenedStored;
    }

    /**
     * A revalidation's 304 named another representation: the stored response is removed now (it must not be used
     * again), and the fill stays open for the full response fetched next.
     */
    public void removeStale() {
        if (stale == null) {
            throw new IllegalStateException("removeStale needs a fill started for a stored response");
        }
        zone.remove(stale);
    }

    /**
     * A revalidation's 304 forbids storing the freshened response (for example {@code no-store}): the stored one
     * is removed (it may no longer be served), and followers go upstream themselves.
     */
    public void dropStale() {
        if (stale == null) {
            throw new IllegalStateException("dropStale needs a fill started for a stored response");
        }
        if (!finished) {
            zone.remove(stale);
            end(new Bypass(Reason.UNCACHEABLE));
        }
    }

    /** The lookup that created this fill found the object after all: followers that came meanwhile get it. */
    void discard(StoredResponse found) {
        end(new Ready(found));
    }

    void doom() {
        doomed = true;
    }

    /** For tag purges: whether this fill may store a response with {@code tag} (true while its head is unknown). */
    boolean mayCarryTag(String tag) {
        Object s = state.get();
        if (s instanceof Streaming st) {
            return st.meta().tags().contains(tag);
        }
        if (s instanceof Ready r) {
            return r.response().meta().tags().contains(tag);
        }
        return !(s instanceof Bypass);
    }

    private void end(Decision decision) {
        finished = true;
        decide(decision);
        zone.fillEnded(this);
        releaseStale();
    }

    private void finishBody() {
        finished = true;
        zone.fillEnded(this);
        body.release(); // the fill's own reference; the cache and the readers hold theirs
        releaseStale();
    }

    private void releaseStale() {
        if (stale != null) {
            stale.release();
        }
    }

    // ---- followers ----

    /** Called on the follower's executor by the lookup that found this fill. */
    CompletableFuture<FollowOutcome> follow(EventExecutor executor, VariantKeys variants, Duration timeout) {
        CompletableFuture<FollowOutcome> future = new CompletableFuture<>();
        Object s = state.get();
        if (s instanceof Decision d) {
            future.complete(lateOutcome(d, variants));
            return future;
        }
        Future<?> timer = executor.schedule(() -> timedOut(future), timeout.toNanos(), TimeUnit.NANOSECONDS);
        for (;;) {
            s = state.get();
            if (s instanceof Decision d) {
                timer.cancel(false);
                future.complete(lateOutcome(d, variants));
                return future;
            }
            if (state.compareAndSet(s, new Waiter(executor, variants, future, timer, (Waiter) s))) {
                return future;
            }
        }
    }

    private void timedOut(CompletableFuture<FollowOutcome> future) {
        if (future.complete(new GoUpstream(Reason.TIMEOUT)) && !(state.get() instanceof Decision)) {
            // the leader has sent nothing for a whole wait: let the next miss lead a new fetch (nginx's
            // proxy_cache_lock_age); this one may still complete and store
            zone.fillEnded(this);
        }
    }

    /** The leader's decision, once; wakes every waiter on its own executor. */
    private void decide(Decision decision) {
        Object prev = state.getAndSet(decision);
        for (Waiter w = (Waiter) prev; w != null; w = w.next()) {
            deliver(w, decision);
        }
    }

    private void deliver(Waiter w, Decision d) {
        // the body is certainly alive here (the leader holds it): pin it for the waiter before the hand-off
        Body pinned = d instanceof Streaming st ? st.body() : d instanceof Ready r ? r.response().body() : null;
        if (pinned != null) {
            pinned.retain();
        }
        try {
            w.executor().execute(() -> {
                w.timer().cancel(false);
                FollowOutcome out = outcome(d, w.variants(), pinned);
                if (!w.future().complete(out) && out instanceof Attached a) {
                    a.response().release(); // timed out or cancelled meanwhile
                }
            });
        } catch (RejectedExecutionException e) {
            if (pinned != null) {
                pinned.release();
            }
            w.future().complete(new GoUpstream(Reason.LEADER_FAILED));
        }
    }

    /** A follower that came after the decision: pin the body itself, if it is still there. */
    private FollowOutcome lateOutcome(Decision d, VariantKeys variants) {
        Body b = d instanceof Streaming st ? st.body() : d instanceof Ready r ? r.response().body() : null;
        if (b != null && !b.tryRetain()) {
            return new GoUpstream(Reason.LEADER_FAILED);
        }
        return outcome(d, variants, b);
    }

    /** On the follower's executor; {@code pinned} is a reference taken for it, kept or released here. */
    private static FollowOutcome outcome(Decision d, VariantKeys variants, Body pinned) {
        if (d instanceof Bypass b) {
            return new GoUpstream(b.reason());
        }
        if (d instanceof Ready r) {
            ResponseMeta m = r.response().meta();
            if (!variants.variantKey(m.vary()).equals(m.variantKey())) {
                pinned.release(); // a lower tier's object of another variant than this follower's
                return new GoUpstream(Reason.VARIANT_MISMATCH);
            }
            return new Attached(r.response());
        }
        Streaming st = (Streaming) d;
        ResponseMeta m = st.meta();
        if (!variants.variantKey(m.vary()).equals(m.variantKey())) {
            pinned.release();
            return new GoUpstream(Reason.VARIANT_MISMATCH);
        }
        if (pinned.isAborted()) {
            AbortReason why = pinned.abortReason();
            pinned.release();
            return new GoUpstream(why == AbortReason.TOO_LARGE ? Reason.TOO_LARGE : Reason.LEADER_FAILED);
        }
        return new Attached(new StoredResponse(m, pinned));
    }

    @Override
    public String toString() {
        return "Fill(" + key + (stale != null ? ", revalidating" : "") + (doomed ? ", doomed" : "") + ")";
    }
}

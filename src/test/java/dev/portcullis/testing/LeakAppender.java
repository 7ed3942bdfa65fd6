package dev.portcullis.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Collects Netty's "LEAK:" reports (logged by ResourceLeakDetector) so {@link LeakWatch} can fail the tests. */
public final class LeakAppender extends AppenderBase<ILoggingEvent> {
    static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        String m = event.getFormattedMessage();
        if (m != null && m.contains("LEAK:")) {
            LEAKS.add(m);
        }
    }
}
